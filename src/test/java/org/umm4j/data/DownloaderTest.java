package org.umm4j.data;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Runs the downloader against a loopback HTTP server serving archives this test builds; no internet. */
class DownloaderTest {
    @TempDir
    Path tmp;
    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private URI base;
    private final Downloader downloader = new Downloader(Duration.ofSeconds(5), Duration.ofSeconds(30));

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/files/", ex -> {
            requests.incrementAndGet();
            byte[] body = served.get(ex.getRequestURI().getPath().substring("/files/".length()));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(body);
                }
            }
            ex.close();
        });
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/files/");
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** A cifar-10-binary.tar.gz with 3 training and 1 test record. */
    private byte[] cifarArchive() throws IOException {
        Path work = Files.createTempDirectory(tmp, "build");
        TestFiles.writeCifar(work.resolve("b1"), new int[][]{{1}, {2}, {3}}, 0);
        TestFiles.writeCifar(work.resolve("t"), new int[][]{{9}}, 7);
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("cifar-10-batches-bin/", new byte[0]);
        e.put("cifar-10-batches-bin/data_batch_1.bin", Files.readAllBytes(work.resolve("b1")));
        e.put("cifar-10-batches-bin/test_batch.bin", Files.readAllBytes(work.resolve("t")));
        e.put("cifar-10-batches-bin/batches.meta.txt", String.join("\n", Cifar10Reader.CLASS_NAMES).getBytes());
        Path tgz = work.resolve("a.tar.gz");
        TestFiles.writeTarGz(tgz, e);
        return Files.readAllBytes(tgz);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void downloadsVerifiesAndExtractsThenReusesTheDirectory() throws Exception {
        byte[] archive = cifarArchive();
        served.put("cifar-10-binary.tar.gz", archive);
        DownloadSpec spec = DownloadSpec.CIFAR10.withBaseUrl(base).withSha256(sha256(archive)).withMd5(null);
        assertEquals(base.resolve("cifar-10-binary.tar.gz"), spec.url());
        Path data = tmp.resolve("data");
        Path dir = downloader.ensure(spec, data);
        assertEquals(data.resolve("cifar-10-batches-bin"), dir);
        assertEquals(List.of("cifar-10-batches-bin"), listing(data), "no temporary files left");
        ImageDataset train = Cifar10Reader.read(dir, Split.TRAIN);
        assertEquals(3, train.size());
        assertEquals(3, train.label(2));
        assertEquals(TestFiles.pixel(2, 100), train.image(2)[100] & 0xFF);
        assertEquals(9, Datasets.load("cifar10", data, Split.TEST).label(0));
        assertEquals(1, requests.get());
        downloader.ensure(spec, data);
        assertEquals(1, requests.get(), "an existing directory is not downloaded again");
    }

    @Test
    void checksumMismatchLeavesNothingBehind() throws Exception {
        byte[] good = cifarArchive();
        byte[] bad = good.clone();
        bad[bad.length / 2] ^= 0x55;
        served.put("cifar-10-binary.tar.gz", bad);
        Path data = tmp.resolve("data");
        DownloadSpec spec = DownloadSpec.CIFAR10.withBaseUrl(base).withSha256(sha256(good)).withMd5(null);
        IOException e = assertThrows(IOException.class, () -> downloader.ensure(spec, data));
        assertTrue(e.getMessage().contains("checksum mismatch") && e.getMessage().contains(spec.url().toString())
                && e.getMessage().contains(sha256(good)) && e.getMessage().contains(sha256(bad)), e.getMessage());
        assertEquals(List.of(), listing(data));

        // the published-MD5 check of the built-in spec fails the same way on a file that is not the real archive
        served.put("cifar-10-binary.tar.gz", good);
        DownloadSpec md5Only = DownloadSpec.CIFAR10.withBaseUrl(base);
        e = assertThrows(IOException.class, () -> downloader.ensure(md5Only, data));
        assertTrue(e.getMessage().contains("MD5 c32a1d4ab5d03f1284b67883e8d87530"), e.getMessage());
        assertEquals(List.of(), listing(data));
    }

    @Test
    void httpErrorAndBadArchivesAreReported() throws Exception {
        Path data = tmp.resolve("data");
        DownloadSpec spec = DownloadSpec.CIFAR100.withBaseUrl(base).withMd5(null);
        IOException e = assertThrows(IOException.class, () -> downloader.ensure(spec, data));
        assertTrue(e.getMessage().contains("HTTP 404") && e.getMessage().contains("cifar-100-binary.tar.gz"), e.getMessage());

        // an archive without the expected top-level directory
        served.put("cifar-100-binary.tar.gz", cifarArchive());
        e = assertThrows(IOException.class, () -> downloader.ensure(spec, data));
        assertTrue(e.getMessage().contains("'cifar-100-binary/'"), e.getMessage());
        assertEquals(List.of(), listing(data));

        // an entry escaping the target directory
        Path tgz = tmp.resolve("evil.tar.gz");
        TestFiles.writeTarGz(tgz, Map.of("cifar-100-binary/../../evil.txt", new byte[]{1}));
        served.put("cifar-100-binary.tar.gz", Files.readAllBytes(tgz));
        e = assertThrows(IOException.class, () -> downloader.ensure(spec, data));
        assertTrue(e.getMessage().contains("outside the target"), e.getMessage());
        assertEquals(List.of(), listing(data));
        assertFalse(Files.exists(tmp.resolve("evil.txt")));
    }

    @Test
    void offlineErrorNamesTheUrlAndTheManualRoute() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        } // closed: connections are refused
        DownloadSpec spec = DownloadSpec.STL10.withBaseUrl(URI.create("http://127.0.0.1:" + port + "/x/"));
        Path data = tmp.resolve("data");
        IOException e = assertThrows(IOException.class, () -> downloader.ensure(spec, data));
        assertTrue(e.getMessage().contains("http://127.0.0.1:" + port + "/x/stl10_binary.tar.gz")
                && e.getMessage().contains("--data-dir DIR") && e.getMessage().contains("manually"), e.getMessage());
        assertEquals(List.of(), listing(data));
    }

    @Test
    void specValidation() {
        assertEquals("stl10_binary.tar.gz", DownloadSpec.STL10.fileName());
        assertNull(DownloadSpec.CIFAR10.sha256(), "no SHA-256 is published; the constant stays null");
        assertThrows(IllegalArgumentException.class, () -> DownloadSpec.CIFAR10.withSha256("abc"));
        assertThrows(IllegalArgumentException.class,
                () -> new DownloadSpec("x", URI.create("http://h/dir/"), null, null, "d"));
        assertThrows(IllegalArgumentException.class,
                () -> new DownloadSpec("x", URI.create("http://h/f.tar.gz"), null, null, "../d"));
        assertEquals("ab".repeat(32), DownloadSpec.CIFAR10.withSha256("AB".repeat(32)).sha256());
    }
}
