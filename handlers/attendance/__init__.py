"""Who comes: members' RSVPs before a meeting and the secretary's roll call after it,
with quorum and the absence flags."""
