-- Sessions are now stored under sha256 of the cookie's token (server/auth/hashed-adapter.ts). Rows written before
-- hold the raw token, which no cookie hashes to: delete them, so a dump taken later holds no usable session.
-- Everyone signs in again once.
DELETE FROM "sessions";
