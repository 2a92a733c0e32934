package org.umm4j.train;

import org.umm4j.io.AtomicFiles;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code checkpoints/} folder of a run: saves {@link Checkpoint}s crash-safely, tracks the latest one and prunes
 * old ones.
 *
 * <p>Save protocol (one writer per run): (1) delete stale {@code .tmp-*} folders left by an earlier crash;
 * (2) write everything into {@code .tmp-epoch-NNNN-<nanos>/}, {@code state.json} last; (3) rename it to
 * {@code epoch-NNNN/} with ATOMIC_MOVE; (4) replace the pointer file {@code latest} (its content is the folder
 * name) atomically; (5) prune. A crash before (3) leaves only a temp folder that nobody reads; a crash between (3)
 * and (4) leaves a complete folder that {@code latest} does not name yet, so the previous checkpoint stays the
 * latest one. {@code latest} therefore always names a complete checkpoint. If the pointer is missing or names a
 * missing folder (files deleted by hand), {@link #latest()} falls back to the highest complete {@code epoch-NNNN}.
 *
 * <p>Pruning keeps the {@code keepLast} highest epochs and never deletes the one {@code latest} names.
 */
public final class CheckpointStore {
    /** name of the pointer file */
    public static final String LATEST = "latest";
    /** name of the pointer file to the best checkpoint (set by an early-stopping rule), absent if none */
    public static final String BEST = "best";
    private static final Pattern DIR = Pattern.compile("epoch-(\\d{4,})");
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    private final Path dir;
    private final int keepLast;
    /** test hook: runs on the finished temp folder just before it is renamed (simulates a crash mid-save) */
    private final Consumer<Path> beforeCommit;

    /**
     * @param dir      the {@code checkpoints/} folder (created if absent)
     * @param keepLast how many checkpoints to keep, &gt; 0
     */
    public CheckpointStore(Path dir, int keepLast) {
        this(dir, keepLast, p -> {
        });
    }

    CheckpointStore(Path dir, int keepLast, Consumer<Path> beforeCommit) {
        this.dir = Checks.notNull("dir", dir);
        this.keepLast = Checks.positive("keepLast", keepLast);
        this.beforeCommit = beforeCommit;
    }

    public Path dir() {
        return dir;
    }

    /** @return the folder name of the checkpoint of an epoch, e.g. {@code epoch-0005} */
    public static String dirName(int epoch) {
        return String.format("epoch-%04d", epoch);
    }

    /**
     * Saves a checkpoint crash-safely and makes it the latest.
     *
     * @throws IllegalStateException if a checkpoint of the same epoch is the current latest one (it is never
     *                               overwritten); an older folder of the same epoch (left by a crash between
     *                               rename and pointer update) is replaced
     */
    public Checkpoint save(CheckpointData data) {
        Checks.notNull("data", data);
        String name = dirName(data.epoch());
        Path target = dir.resolve(name);
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            deleteStaleTemps();
            Optional<String> latestName = readPointer();
            if (latestName.isPresent() && latestName.get().equals(name) && Files.exists(target)) {
                throw new IllegalStateException("refusing to overwrite " + target + ": it is the latest checkpoint");
            }
            tmp = dir.resolve(".tmp-" + name + "-" + System.nanoTime());
            Files.createDirectory(tmp);
            Checkpoint.writeInto(tmp, data);
            beforeCommit.accept(tmp);
            if (Files.exists(target)) {
                LOG.warn("replacing orphan checkpoint {} (not the latest)", target);
                AtomicFiles.deleteRecursively(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            AtomicFiles.writeString(dir.resolve(LATEST), name + "\n");
            LOG.info("saved checkpoint {} (epoch {}, step {})", target, data.epoch(), data.step());
            prune(name);
            return Checkpoint.open(target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save checkpoint " + target, e);
        } finally {
            if (tmp != null) {
                try {
                    AtomicFiles.deleteRecursively(tmp);
                } catch (IOException e) {
                    LOG.warn("could not delete temporary checkpoint folder {}", tmp, e);
                }
            }
        }
    }

    /** @return the checkpoint named by {@code latest} (or, failing that, the highest complete one), if any */
    public Optional<Checkpoint> latest() {
        Optional<String> p = readPointer();
        if (p.isPresent()) {
            Path d = dir.resolve(p.get());
            if (Files.isRegularFile(d.resolve(Checkpoint.STATE))) {
                return Optional.of(Checkpoint.open(d));
            }
            LOG.warn("{} names {}, which is not a complete checkpoint; falling back to the highest epoch",
                    dir.resolve(LATEST), d);
        }
        List<Checkpoint> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * Points {@code best} (atomically) at the checkpoint of {@code epoch}, which must exist; pruning keeps it.
     *
     * @throws IllegalArgumentException if there is no complete checkpoint of that epoch
     */
    public void markBest(int epoch) {
        Path target = dir.resolve(dirName(epoch));
        if (!Files.isRegularFile(target.resolve(Checkpoint.STATE))) {
            throw new IllegalArgumentException("epoch " + epoch + " has no complete checkpoint in " + dir);
        }
        AtomicFiles.writeString(dir.resolve(BEST), dirName(epoch) + "\n");
        LOG.info("marked {} as the best checkpoint", target);
    }

    /** @return the checkpoint {@code best} names, if the pointer exists and names a complete checkpoint */
    public Optional<Checkpoint> best() {
        return readPointer(BEST).map(dir::resolve).filter(d -> Files.isRegularFile(d.resolve(Checkpoint.STATE)))
                .map(Checkpoint::open);
    }

    /** @return the complete checkpoints, by increasing epoch */
    public List<Checkpoint> list() {
        List<Checkpoint> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (DIR.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p.resolve(Checkpoint.STATE))) {
                    out.add(Checkpoint.open(p));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        out.sort(Comparator.comparingInt(c -> epochOf(c.path())));
        return out;
    }

    private void prune(String keep) throws IOException {
        List<Checkpoint> all = list();
        int excess = all.size() - keepLast;
        for (int i = 0; i < all.size() && excess > 0; i++) {
            Path p = all.get(i).path();
            String name = p.getFileName().toString();
            if (!name.equals(keep) && !readPointer(BEST).map(name::equals).orElse(false)) {
                AtomicFiles.deleteRecursively(p);
                excess--;
                LOG.debug("pruned checkpoint {}", p);
            }
        }
    }

    private Optional<String> readPointer() {
        return readPointer(LATEST);
    }

    private Optional<String> readPointer(String pointer) {
        Path f = dir.resolve(pointer);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            String s = Files.readString(f, StandardCharsets.UTF_8).trim();
            return DIR.matcher(s).matches() ? Optional.of(s) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    private void deleteStaleTemps() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".tmp-*")) {
            for (Path p : ds) {
                LOG.warn("deleting stale temporary checkpoint folder {}", p);
                AtomicFiles.deleteRecursively(p);
            }
        }
    }

    private static int epochOf(Path p) {
        Matcher m = DIR.matcher(p.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a checkpoint folder name: " + p);
        }
        return Integer.parseInt(m.group(1));
    }
}
