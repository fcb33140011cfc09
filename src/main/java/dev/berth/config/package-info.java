/**
 * Berth's configuration: immutable records with their defaults in code, read from YAML by Jackson,
 * overridden by {@code BERTH_*} environment variables and command-line flags, and validated with
 * messages that name the offending key. Nothing here starts or wires anything.
 */
package dev.berth.config;
