-- Confidential e-mail (issue 19): a user's OpenPGP public key (ASCII-armored, checked by the
-- server before it is stored). AMBER+STRICT and RED e-mail goes to a user only encrypted to this
-- key; without one it is not e-mailed at all (the delivery log says so).
ALTER TABLE users ADD COLUMN openpgp_key TEXT;
