package dev.berth.manifest;

/** The platform of an index entry. */
public record Platform(String os, String architecture, String variant) {
}
