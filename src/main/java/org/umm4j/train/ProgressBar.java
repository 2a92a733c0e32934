package org.umm4j.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Terminal progress for the CLI: epoch, step/total within the epoch, loss, img/s and the ETA of the whole run.
 *
 * <p>Interactive mode (stdout is a terminal, {@code System.console() != null}) redraws one line with {@code \r}
 * after every step and ends it with a newline at the end of each epoch. Plain mode (logs, pipes, CI) prints one
 * line every {@code logEvery} steps and at the last step of each epoch:
 * <pre>
 *   epoch 2/10 step 40/100 loss 1.2346 img/s 92.1 eta 0:12:34
 * </pre>
 * ETA = elapsed / (steps done since {@link #begin}) * (steps remaining), in H:MM:SS ({@code --:--:--} before the
 * first step). Library code should not print: it logs via SLF4J; only the CLI hands this a {@code System.out}.
 */
public final class ProgressBar {
    private final PrintStream out;
    private final boolean interactive;
    private final int logEvery;
    private final LongSupplier nanoClock;
    private long startNanos;
    private long startStepsDone;
    private int lastWidth;

    /**
     * @param out         where to write
     * @param interactive redraw with \r (true) or print plain lines (false)
     * @param logEvery    plain mode: print every this many steps, &gt; 0
     */
    public ProgressBar(PrintStream out, boolean interactive, int logEvery) {
        this(out, interactive, logEvery, System::nanoTime);
    }

    ProgressBar(PrintStream out, boolean interactive, int logEvery, LongSupplier nanoClock) {
        this.out = Checks.notNull("out", out);
        this.interactive = interactive;
        this.logEvery = Checks.positive("logEvery", logEvery);
        this.nanoClock = nanoClock;
    }

    /** A bar that is interactive exactly when the JVM has a console. */
    public static ProgressBar forConsole(PrintStream out, int logEvery) {
        return new ProgressBar(out, System.console() != null, logEvery);
    }

    public boolean interactive() {
        return interactive;
    }

    /** Starts the ETA clock; {@code globalStepsDone} are steps finished before this session (resume). */
    public void begin(long globalStepsDone) {
        this.startNanos = nanoClock.getAsLong();
        this.startStepsDone = globalStepsDone;
    }

    /**
     * Reports a finished step.
     *
     * @param epoch         0-based epoch
     * @param epochs        total epochs
     * @param step          1-based step within the epoch just finished
     * @param stepsPerEpoch steps per epoch
     */
    public void update(int epoch, int epochs, int step, int stepsPerEpoch, double loss, double imagesPerSecond) {
        long done = (long) epoch * stepsPerEpoch + step;
        long total = (long) epochs * stepsPerEpoch;
        Duration elapsed = Duration.ofNanos(nanoClock.getAsLong() - startNanos);
        String line = format(epoch, epochs, step, stepsPerEpoch, loss, imagesPerSecond,
                eta(done - startStepsDone, total - done, elapsed));
        boolean epochEnd = step == stepsPerEpoch;
        if (interactive) {
            StringBuilder sb = new StringBuilder("\r").append(line);
            for (int i = line.length(); i < lastWidth; i++) {
                sb.append(' '); // blank out the rest of a longer previous line
            }
            lastWidth = line.length();
            out.print(sb);
            if (epochEnd) {
                out.println();
                lastWidth = 0;
            }
            out.flush();
        } else if (step % logEvery == 0 || epochEnd) {
            out.println(line);
        }
    }

    /** The plain line (without \r): {@code epoch E/EE step S/SS loss L img/s R eta H:MM:SS}, epochs 1-based. */
    public static String format(int epoch, int epochs, int step, int stepsPerEpoch, double loss, double imagesPerSecond,
                                Duration eta) {
        return String.format(Locale.ROOT, "epoch %d/%d step %d/%d loss %.4f img/s %.1f eta %s", epoch + 1, epochs, step,
                stepsPerEpoch, loss, imagesPerSecond, formatDuration(eta));
    }

    /**
     * @param stepsDone      steps finished since the clock started
     * @param stepsRemaining steps left in the run
     * @param elapsed        time since the clock started
     * @return the estimated time left, or null when no step has finished yet
     */
    public static Duration eta(long stepsDone, long stepsRemaining, Duration elapsed) {
        if (stepsDone <= 0) {
            return null;
        }
        double nanosPerStep = (double) elapsed.toNanos() / stepsDone;
        return Duration.ofNanos(Math.round(nanosPerStep * Math.max(0, stepsRemaining)));
    }

    /** @return H:MM:SS (hours unbounded), rounding down to the second; {@code --:--:--} for null */
    public static String formatDuration(Duration d) {
        if (d == null) {
            return "--:--:--";
        }
        long s = d.getSeconds();
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
