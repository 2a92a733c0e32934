package org.umm4j.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class ProgressBarTest {

    @Test
    void etaArithmetic() {
        // 10 steps in 20 s -> 2 s/step, 90 left -> 180 s
        assertEquals(Duration.ofSeconds(180), ProgressBar.eta(10, 90, Duration.ofSeconds(20)));
        assertEquals(Duration.ofMillis(1500), ProgressBar.eta(4, 3, Duration.ofSeconds(2)));
        assertEquals(Duration.ZERO, ProgressBar.eta(5, 0, Duration.ofSeconds(9)));
        assertNull(ProgressBar.eta(0, 10, Duration.ofSeconds(1)));
        assertEquals("1:01:05", ProgressBar.formatDuration(Duration.ofSeconds(3665)));
        assertEquals("0:00:59", ProgressBar.formatDuration(Duration.ofMillis(59_999)));
        assertEquals("27:46:40", ProgressBar.formatDuration(Duration.ofSeconds(100_000)));
        assertEquals("--:--:--", ProgressBar.formatDuration(null));
    }

    @Test
    void plainModePrintsEveryNStepsAndAtEpochEnd() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong(0);
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 2, clock::get);
        bar.begin(5); // resumed after one epoch of 5 steps
        for (int s = 1; s <= 5; s++) {
            clock.addAndGet(1_000_000_000L); // 1 s per step
            bar.update(1, 3, s, 5, 1.0 / s, 64.0 * s);
        }
        String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length, buf.toString());
        // after step 2 of epoch 2: 2 steps in 2 s, 8 steps left (3 in this epoch + 5) -> 8 s
        assertEquals("epoch 2/3 step 2/5 loss 0.5000 img/s 128.0 eta 0:00:08", lines[0]);
        assertEquals("epoch 2/3 step 4/5 loss 0.2500 img/s 256.0 eta 0:00:06", lines[1]);
        assertEquals("epoch 2/3 step 5/5 loss 0.2000 img/s 320.0 eta 0:00:05", lines[2]);
        assertFalse(buf.toString(StandardCharsets.UTF_8).contains("\r"));
    }

    @Test
    void interactiveModeRedrawsWithCarriageReturn() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong(0);
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), true, 100, clock::get);
        bar.begin(0);
        clock.set(1_000_000_000L);
        bar.update(0, 1, 1, 2, 10.0, 1.0);
        clock.set(2_000_000_000L);
        bar.update(0, 1, 2, 2, 1.0, 1.0);
        String s = buf.toString(StandardCharsets.UTF_8);
        assertEquals("\repoch 1/1 step 1/2 loss 10.0000 img/s 1.0 eta 0:00:01"
                + "\repoch 1/1 step 2/2 loss 1.0000 img/s 1.0 eta 0:00:00 " + System.lineSeparator(), s);
    }
}
