"""The Party year: the thematic plan, Điều 8 and HD 42 flags, self-assessment and
classification, and the year's sheets of the committee's workbook."""
