-- Spending confirmed in the Mini App: a nonce per attempt at a pending operation (single use,
-- short-lived, kept only as a hash), and per device a biometric token (kept only as a hash,
-- replaced at every use, gone when the password changes).
CREATE TABLE app_nonces (
    nonce_hash    TEXT        PRIMARY KEY,
    user_id       BIGINT      NOT NULL REFERENCES users (id),
    operation_id  TEXT        NOT NULL REFERENCES pending_operations (id),
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ
);
CREATE INDEX app_nonces_expiry ON app_nonces (expires_at);
CREATE TABLE biometric_devices (
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    device_id   TEXT        NOT NULL,
    token_hash  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    PRIMARY KEY (user_id, device_id)
);
