package dev.berth.notify;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.config.BerthConfig.BackoffConfig;
import dev.berth.config.BerthConfig.EndpointConfig;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link EndpointDispatcher#backoffMillis(int)}: the delay before the next attempt doubles from
 * {@code backoff.initial} up to {@code backoff.max}, each delay jittered down by up to half. The
 * dispatcher's constructor only stores the outbox, so none is needed; it is never started.
 */
class BackoffTest {
    private static final int SAMPLES = 300;
    private static Vertx vertx;
    private static final List<EndpointDispatcher> dispatchers = new ArrayList<>();

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        dispatchers.forEach(EndpointDispatcher::stop);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static EndpointDispatcher dispatcher(BackoffConfig backoff) {
        EndpointConfig config = new EndpointConfig("backoff-test", "http://127.0.0.1:9/hook", null, null, null, null,
                backoff, null, null, null);
        EndpointDispatcher d = new EndpointDispatcher(vertx, null, config);
        dispatchers.add(d);
        return d;
    }

    private static EndpointDispatcher dispatcher(long initialMs, long maxMs) {
        return dispatcher(new BackoffConfig(Duration.ofMillis(initialMs), Duration.ofMillis(maxMs)));
    }

    /** Samples the delay after {@code attempts} attempts and checks every one lies in [base/2, base]. */
    private static void assertJitteredAround(EndpointDispatcher d, int attempts, long base) {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < SAMPLES; i++) {
            long delay = d.backoffMillis(attempts);
            assertTrue(delay >= base / 2 && delay <= base,
                    "attempt " + attempts + ": delay " + delay + " not within [" + base / 2 + ", " + base + "]");
            min = Math.min(min, delay);
            max = Math.max(max, delay);
        }
        if (base >= 100) {
            // jitter really spreads the delays over the range (failure odds ~ 0.8^300 per bound)
            assertTrue(min < base / 2 + base / 5, "attempt " + attempts + ": no short delays, min " + min);
            assertTrue(max > base - base / 5, "attempt " + attempts + ": no long delays, max " + max);
        }
    }

    @Test
    void delaysDoubleFromInitialUpToMax() {
        EndpointDispatcher d = dispatcher(1_000, 60_000);
        long[] bases = {1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000};
        for (int attempt = 1; attempt <= bases.length; attempt++) {
            assertJitteredAround(d, attempt, bases[attempt - 1]);
        }
    }

    @Test
    void firstRetryIsWithinHalfToFullInitialDelay() {
        assertJitteredAround(dispatcher(1_000, 300_000), 1, 1_000);
        assertJitteredAround(dispatcher(250, 300_000), 1, 250);
        assertJitteredAround(dispatcher(7_000, 7_000), 1, 7_000);
    }

    @Test
    void neverAboveMaxEvenAfterManyAttempts() {
        EndpointDispatcher d = dispatcher(1_000, 300_000);
        for (int attempt : new int[] {10, 11, 12, 20, 64, 1_000, 100_000, Integer.MAX_VALUE}) {
            assertJitteredAround(d, attempt, 300_000);
        }
    }

    @Test
    void maxThatIsNotAPowerOfTwoMultipleCapsTheDoubling() {
        EndpointDispatcher d = dispatcher(3_000, 10_000);
        assertJitteredAround(d, 1, 3_000);
        assertJitteredAround(d, 2, 6_000);
        assertJitteredAround(d, 3, 10_000);
        assertJitteredAround(d, 4, 10_000);
    }

    @Test
    void initialEqualToMaxGivesAConstantRange() {
        EndpointDispatcher d = dispatcher(5_000, 5_000);
        for (int attempt = 1; attempt <= 6; attempt++) {
            assertJitteredAround(d, attempt, 5_000);
        }
    }

    @Test
    void defaultsAreOneSecondToFiveMinutes() {
        EndpointDispatcher d = dispatcher(new BackoffConfig(null, null));
        assertJitteredAround(d, 1, 1_000);
        assertJitteredAround(d, 2, 2_000);
        // 1s doubled 8 times is 256s; the 10th attempt would be 512s, capped at 300s
        assertJitteredAround(d, 9, 256_000);
        assertJitteredAround(d, 10, 300_000);
    }

    @Test
    void tinyDelaysStayWithinBounds() {
        EndpointDispatcher one = dispatcher(1, 1);
        for (int i = 0; i < SAMPLES; i++) {
            long delay = one.backoffMillis(1);
            assertTrue(delay >= 0 && delay <= 1, "delay " + delay);
        }
        EndpointDispatcher small = dispatcher(1, 8);
        assertJitteredAround(small, 1, 1);
        assertJitteredAround(small, 2, 2);
        assertJitteredAround(small, 3, 4);
        assertJitteredAround(small, 4, 8);
        assertJitteredAround(small, 5, 8);
    }

    @Test
    void averageDelayRoughlyDoublesPerAttempt() {
        EndpointDispatcher d = dispatcher(1_000, 1_000_000);
        double previous = mean(d, 1);
        for (int attempt = 2; attempt <= 8; attempt++) {
            double current = mean(d, attempt);
            double ratio = current / previous;
            assertTrue(ratio > 1.7 && ratio < 2.3, "attempt " + attempt + ": mean grew by " + ratio);
            previous = current;
        }
    }

    private static double mean(EndpointDispatcher d, int attempts) {
        long sum = 0;
        int n = 2_000;
        for (int i = 0; i < n; i++) {
            sum += d.backoffMillis(attempts);
        }
        return (double) sum / n;
    }
}
