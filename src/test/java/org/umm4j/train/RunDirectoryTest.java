package org.umm4j.train;

import org.umm4j.io.AtomicFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunDirectoryTest {

    @Test
    void manifestHoldsProvenance(@TempDir Path tmp) {
        Path out = tmp.resolve("out");
        RunDirectory run = RunDirectory.create(out, Map.of("method", "simclr", "batch", 256), 42L, "cifar10",
                "sha256:abc");
        assertTrue(Files.isDirectory(out.resolve("checkpoints")));
        Map<String, Object> m = RunDirectory.open(out).manifest();
        assertEquals(Map.of("method", "simclr", "batch", 256), m.get("config"));
        assertEquals(42, ((Number) m.get("seed")).intValue());
        assertEquals(42L, run.seed());
        assertEquals("dev", m.get("umm4jVersion"), "tests run from classes");
        assertEquals("1.0.0-M2.1", m.get("dl4jVersion"));
        assertEquals("1.0.0-M2.1", m.get("nd4jVersion"));
        assertEquals("CPU", m.get("backend"));
        assertInstanceOf(Boolean.class, m.get("oneDnn"));
        assertEquals("cifar10", m.get("dataset"));
        assertEquals("sha256:abc", m.get("datasetChecksum"));
        assertEquals(Runtime.getRuntime().availableProcessors(), m.get("hostCores"));
        assertNotNull(java.time.Instant.parse((String) m.get("startTime")));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RunDirectory.create(out, Map.of(), 1, "x", "y"));
        assertTrue(e.getMessage().contains("already holds a run"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> RunDirectory.open(tmp));
        assertTrue(e2.getMessage().contains("manifest.json"), e2.getMessage());
    }

    @Test
    void metricsHeaderOnceRowsFlushedAndResumeTruncates(@TempDir Path tmp) throws Exception {
        RunDirectory run = RunDirectory.create(tmp, Map.of(), 1, "d", "c");
        List<String> extras = List.of("loss_inv", "dR");
        try (MetricsLog log = run.openMetrics(extras)) {
            log.append(0, 1, 2.5, 0.1, 100.0, Map.of("loss_inv", 1.5, "dR", 3.0));
            log.append(0, 2, 2.0, 0.1, 110.0, Map.of("dR", 3.5));
            // flushed: visible before close
            List<String> lines = Files.readAllLines(run.metricsFile());
            assertEquals(List.of("epoch,step,loss,lr,img_per_s,loss_inv,dR", "0,1,2.5,0.1,100.0,1.5,3.0",
                    "0,2,2.0,0.1,110.0,,3.5"), lines);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> log.append(0, 3, 1, 1, 1, Map.of("bogus", 1.0)));
            assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        }
        try (MetricsLog log = run.openMetrics(extras)) { // reopening appends, header not repeated
            log.append(1, 3, 1.5, 0.05, 120.0, null);
            log.append(1, 4, 1.25, 0.05, 120.0, null);
        }
        // a crash tore the last row
        Files.writeString(run.metricsFile(), "1,5,1.0,0.0", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        try (MetricsLog log = run.resumeMetrics(extras, 3)) {
            log.append(1, 4, 9.0, 0.05, 1.0, null);
        }
        List<Map<String, String>> rows = MetricsLog.read(run.metricsFile());
        assertEquals(4, rows.size());
        assertEquals(List.of("1", "2", "3", "4"), rows.stream().map(r -> r.get("step")).toList());
        assertEquals("9.0", rows.get(3).get("loss"), "row 4 was rewritten after the resume");
        assertEquals(1, Files.readAllLines(run.metricsFile()).stream().filter(l -> l.startsWith("epoch")).count());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> run.openMetrics(List.of("other")));
        assertTrue(e.getMessage().contains("header"), e.getMessage());
    }

    @Test
    void atomicWriteReplacesAndLeavesNoTemp(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("x.json");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two");
        assertEquals("two", Files.readString(f));
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void badColumnNamesRejected(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MetricsLog.open(tmp.resolve("m.csv"), List.of("a,b")));
        assertTrue(e.getMessage().contains("extraColumns"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MetricsLog.open(tmp.resolve("m.csv"), List.of("loss")));
        assertTrue(e.getMessage().contains("extraColumns"), e.getMessage());
    }
}
