/**
 * Manifest and index models and their validation. Manifests are parsed only to validate them and to
 * learn what they reference; the bytes a client pushed are what the registry stores and serves (the
 * digest is over those bytes). Nothing here reads storage.
 */
package dev.berth.manifest;
