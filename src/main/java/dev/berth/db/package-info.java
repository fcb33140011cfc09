/**
 * The embedded SQL database under the data directory ({@code state.db}, SQLite): the webhook
 * outbox now, the control-plane state later. One thread owns the connection; work is submitted
 * to it and comes back as futures on the caller's Vert.x context. Schema changes are versioned
 * migrations applied at start. Nothing here knows what the tables mean.
 */
package dev.berth.db;
