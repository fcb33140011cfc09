/**
 * The {@code berth} program: command-line entry point, subcommands, logging set-up and
 * {@link dev.berth.app.BerthServer}, the composition root and the only place that wires services
 * together.
 */
package dev.berth.app;
