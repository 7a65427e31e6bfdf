"""The post-meeting score: the secretary's form, criteria the bot computes, corrections,
overrides, the follower's confirmation, and what a score tells others."""
