package dev.berth.deploy.model;

import java.util.List;

/**
 * A container health check, as ECS and Docker define it: {@code command} starts with {@code CMD}
 * (exec form) or {@code CMD-SHELL} (one shell string); seconds for the timings.
 */
public record HealthCheck(List<String> command, Integer interval, Integer timeout, Integer retries, Integer startPeriod) {
    HealthCheck normalize(String field) {
        List<String> cmd = Check.strings(field + ".command", Check.required(field + ".command", command), 4096);
        if (cmd.isEmpty() || !(cmd.get(0).equals("CMD") || cmd.get(0).equals("CMD-SHELL"))) {
            throw new FieldException(field + ".command", field + ".command must start with CMD or CMD-SHELL");
        }
        if (cmd.size() < 2) {
            throw new FieldException(field + ".command", field + ".command needs a command after " + cmd.get(0));
        }
        if (cmd.get(0).equals("CMD-SHELL") && cmd.size() != 2) {
            throw new FieldException(field + ".command", field + ".command with CMD-SHELL takes one shell string");
        }
        return new HealthCheck(cmd,
                Check.range(field + ".interval", interval, 5, 300, 30),
                Check.range(field + ".timeout", timeout, 2, 60, 5),
                Check.range(field + ".retries", retries, 1, 10, 3),
                Check.range(field + ".startPeriod", startPeriod, 0, 300, 0));
    }
}
