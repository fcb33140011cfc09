package dev.berth.auth;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: one JSON object per line ({@code time}, {@code action}, {@code outcome},
 * {@code actor}, {@code remote}, and what the action was about), in a file of its own, rolled over
 * by size with Logback. Lines are queued and written by a background thread; when the queue is full
 * the writer waits rather than drop a line.
 */
public final class AuditLog implements AutoCloseable {
    private final Logger logger;
    private final AsyncAppender appender;

    private AuditLog(Logger logger, AsyncAppender appender) {
        this.logger = logger;
        this.appender = appender;
    }

    /** No audit log: records go nowhere. */
    public static AuditLog disabled() {
        return new AuditLog(null, null);
    }

    /**
     * An audit log writing to {@code file}, rolled over at {@code maxFileSize} keeping
     * {@code maxFiles} old files ({@code file.1} the newest).
     */
    public static AuditLog open(Path file, long maxFileSize, int maxFiles) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return disabled();
        }
        // A logger of its own per instance: several servers in one JVM (tests) keep separate files.
        String name = "berth.audit." + UUID.randomUUID();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();

        RollingFileAppender<ILoggingEvent> rolling = new RollingFileAppender<>();
        rolling.setContext(context);
        rolling.setName(name + ".file");
        rolling.setFile(file.toAbsolutePath().toString());
        rolling.setEncoder(encoder);
        FixedWindowRollingPolicy window = new FixedWindowRollingPolicy();
        window.setContext(context);
        window.setParent(rolling);
        window.setFileNamePattern(file.toAbsolutePath() + ".%i");
        window.setMinIndex(1);
        window.setMaxIndex(Math.max(1, maxFiles));
        window.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> size = new SizeBasedTriggeringPolicy<>();
        size.setContext(context);
        size.setMaxFileSize(new FileSize(maxFileSize));
        // Logback looks at the file's size at most this often (its default is a minute).
        size.setCheckIncrement(ch.qos.logback.core.util.Duration.buildByMilliseconds(250));
        size.start();
        rolling.setRollingPolicy(window);
        rolling.setTriggeringPolicy(size);
        rolling.start();

        AsyncAppender async = new AsyncAppender();
        async.setContext(context);
        async.setName(name + ".async");
        async.setQueueSize(8192);
        async.setDiscardingThreshold(0);
        async.setNeverBlock(false);
        async.setIncludeCallerData(false);
        async.addAppender(rolling);
        async.start();

        ch.qos.logback.classic.Logger logger = context.getLogger(name);
        logger.setAdditive(false);
        logger.setLevel(Level.INFO);
        logger.addAppender(async);
        return new AuditLog(logger, async);
    }

    /**
     * Records that {@code actor} (from {@code remote}) did {@code action} with {@code outcome};
     * {@code details} says what it was about. Never put secrets in it.
     */
    public void record(String action, String outcome, String actor, String remote, JsonObject details) {
        if (logger == null) {
            return;
        }
        JsonObject line = new JsonObject().put("time", Instant.now().toString()).put("action", action)
                .put("outcome", outcome).put("actor", actor).put("remote", remote);
        if (details != null) {
            details.forEach(e -> line.put(e.getKey(), e.getValue()));
        }
        logger.info(line.encode());
    }

    /** Writes what is queued and closes the file (the async appender's worker stops the file appender). */
    @Override
    public void close() {
        if (appender != null) {
            appender.stop();
            ((ch.qos.logback.classic.Logger) logger).detachAppender(appender);
        }
    }
}
