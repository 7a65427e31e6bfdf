"""Platform adapters. Only these modules know a platform's types and JSON."""
