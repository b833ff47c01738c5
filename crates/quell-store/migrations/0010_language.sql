-- The language a user reads quell in (`nl`, `en`; NULL: the browser's Accept-Language, else the
-- server's --default-language). Pages, e-mail and API messages use it (quell_server::i18n).
ALTER TABLE users ADD COLUMN language TEXT;
