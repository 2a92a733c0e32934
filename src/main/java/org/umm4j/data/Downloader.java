package org.umm4j.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Downloads a dataset archive, verifies it and unpacks it atomically into a data directory.
 *
 * <p>Steps for {@link #ensure(DownloadSpec, Path)}: if {@code dataDir/<extractedDir>} already exists it
 * is returned untouched; otherwise the archive is streamed to a temporary file in {@code dataDir} while
 * its SHA-256 and MD5 are computed, each expected digest of the spec that is non-null is compared, the
 * archive is unpacked into a temporary directory in {@code dataDir}, and that directory's
 * {@code <extractedDir>} is renamed into place with an atomic move. On any failure (network, HTTP
 * status, checksum mismatch, a corrupt archive, an entry escaping the target) every temporary file is
 * deleted, so no partial dataset is ever left behind. When the host cannot be reached, the error names
 * the URL and tells the user to download the archive manually and pass {@code --data-dir DIR}.
 *
 * <p>The base URL is injectable ({@link DownloadSpec#withBaseUrl}) so tests run against a loopback
 * server; nothing in this class touches the network except {@link #ensure} / {@link #download}.
 */
public final class Downloader {
    private static final Logger LOG = LoggerFactory.getLogger(Downloader.class);
    private final HttpClient client;
    private final Duration requestTimeout;

    /** A downloader with a 30 s connect timeout and a 2 h request timeout. */
    public Downloader() {
        this(Duration.ofSeconds(30), Duration.ofHours(2));
    }

    /**
     * @param connectTimeout how long to wait for a connection
     * @param requestTimeout how long the whole transfer may take
     */
    public Downloader(Duration connectTimeout, Duration requestTimeout) {
        this.client = HttpClient.newBuilder().connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        this.requestTimeout = requestTimeout;
    }

    /**
     * @return {@code dataDir/<spec.extractedDir()>}, downloading and unpacking it first when absent
     * @throws IOException when offline, on an HTTP error, a checksum mismatch or a bad archive
     */
    public Path ensure(DownloadSpec spec, Path dataDir) throws IOException {
        Path target = dataDir.resolve(spec.extractedDir());
        if (Files.isDirectory(target)) {
            LOG.info("{} already present in {}", spec.name(), target);
            return target;
        }
        Files.createDirectories(dataDir);
        Path archive = Files.createTempFile(dataDir, "." + spec.fileName() + ".", ".part");
        Path tmpDir = null;
        try {
            download(spec, archive);
            tmpDir = Files.createTempDirectory(dataDir, "." + spec.extractedDir() + ".");
            extractTarGz(archive, tmpDir, spec.url().toString());
            Path unpacked = tmpDir.resolve(spec.extractedDir());
            if (!Files.isDirectory(unpacked)) {
                throw new IOException(spec.url() + ": archive does not contain the expected top-level directory '"
                        + spec.extractedDir() + "/'");
            }
            try {
                Files.move(unpacked, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                if (!Files.isDirectory(target)) {
                    throw e;
                }
                // another process unpacked the same archive first: keep its (identical, verified) copy
                LOG.info("{} was unpacked concurrently into {}", spec.name(), target);
                return target;
            }
            LOG.info("{} unpacked into {}", spec.name(), target);
            return target;
        } finally {
            Files.deleteIfExists(archive);
            if (tmpDir != null) {
                deleteTree(tmpDir);
            }
        }
    }

    /**
     * Streams {@code spec.url()} into {@code dest} (overwritten), verifying the digests; on any failure
     * {@code dest} is deleted.
     *
     * @throws IOException when offline, on an HTTP error or a checksum mismatch
     */
    public void download(DownloadSpec spec, Path dest) throws IOException {
        String url = spec.url().toString();
        HttpRequest req = HttpRequest.newBuilder(spec.url()).timeout(requestTimeout).GET().build();
        boolean ok = false;
        try {
            HttpResponse<InputStream> resp;
            try {
                resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            } catch (ConnectException | UnknownHostException | NoRouteToHostException
                     | HttpConnectTimeoutException e) {
                throw offline(spec, e);
            } catch (IOException e) {
                if (rootCause(e) instanceof UnknownHostException || rootCause(e) instanceof ConnectException) {
                    throw offline(spec, e);
                }
                throw new IOException("download of " + url + " failed: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("download of " + url + " interrupted", e);
            }
            try (InputStream body = resp.body()) {
                if (resp.statusCode() != 200) {
                    throw new IOException("download of " + url + " failed: HTTP " + resp.statusCode()
                            + "; download it manually and pass --data-dir DIR");
                }
                MessageDigest sha = digest("SHA-256");
                MessageDigest md5 = digest("MD5");
                long total = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
                long done = 0;
                long nextLog = 0;
                byte[] buf = new byte[1 << 16];
                try (OutputStream out = Files.newOutputStream(dest)) {
                    int r;
                    while ((r = body.read(buf)) >= 0) {
                        out.write(buf, 0, r);
                        sha.update(buf, 0, r);
                        md5.update(buf, 0, r);
                        done += r;
                        if (done >= nextLog) {
                            LOG.info("{}: {} MB{}", url, done >> 20, total > 0 ? " of " + (total >> 20) + " MB" : "");
                            nextLog = done + (64L << 20);
                        }
                    }
                }
                if (total >= 0 && done != total) {
                    throw new IOException("download of " + url + " truncated: " + done + " of " + total + " bytes");
                }
                String gotSha = HexFormat.of().formatHex(sha.digest());
                String gotMd5 = HexFormat.of().formatHex(md5.digest());
                check(spec, "SHA-256", spec.sha256(), gotSha);
                check(spec, "MD5", spec.md5(), gotMd5);
                if (spec.sha256() == null) {
                    LOG.warn("{}: no SHA-256 pinned for {}; computed SHA-256 {} (MD5 {}{})", url, spec.name(), gotSha,
                            gotMd5, spec.md5() == null ? ", not verified" : ", verified");
                }
            }
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(dest);
            }
        }
    }

    private static void check(DownloadSpec spec, String algo, String expected, String got) throws IOException {
        if (expected != null && !expected.equals(got)) {
            throw new IOException("checksum mismatch for " + spec.url() + ": expected " + algo + " " + expected
                    + " but the downloaded file has " + got + " (corrupted or changed upstream); nothing was kept");
        }
    }

    private static IOException offline(DownloadSpec spec, Exception e) {
        return new IOException("cannot reach " + spec.url() + " (" + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "). If this machine is offline, download "
                + spec.url() + " manually, extract it into a directory DIR (giving DIR/" + spec.extractedDir()
                + "/) and pass --data-dir DIR", e);
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private static MessageDigest digest(String algo) {
        try {
            return MessageDigest.getInstance(algo);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algo + " is required of every Java platform", e);
        }
    }

    /**
     * Unpacks a .tar.gz into {@code dir}: directories and regular files only (links are refused), and no
     * entry may resolve outside {@code dir}.
     *
     * @param source name for error messages (URL or path)
     * @throws IOException on a corrupt archive or an unsafe entry
     */
    public static void extractTarGz(Path archive, Path dir, String source) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        try (InputStream fin = Files.newInputStream(archive);
             TarArchiveInputStream tar = new TarArchiveInputStream(
                     new GzipCompressorInputStream(new BufferedInputStream(fin, 1 << 16)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextTarEntry()) != null) {
                Path out = root.resolve(e.getName()).normalize();
                if (!out.startsWith(root) || out.equals(root) && !e.isDirectory()) {
                    throw new IOException(source + ": archive entry '" + e.getName() + "' points outside the target");
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else if (e.isFile()) {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    throw new IOException(source + ": archive entry '" + e.getName()
                            + "' is a link or special file; refusing to unpack it");
                }
            }
        } catch (IOException ex) {
            if (ex.getMessage() != null && ex.getMessage().startsWith(source)) {
                throw ex;
            }
            throw new IOException(source + ": corrupt tar.gz archive: " + ex.getMessage(), ex);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
