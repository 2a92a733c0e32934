package org.umm4j.data;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * What to download and how to check it: an archive URL, its expected digests, and the directory the
 * archive unpacks to.
 *
 * <p><b>Checksums.</b> {@code sha256} is verified whenever it is non-null. The dataset authors publish
 * only MD5 digests, not SHA-256, so the built-in specs carry the authors' published MD5 (verified when
 * non-null too) and leave {@code sha256} null; the downloader then logs the SHA-256 it computed so a
 * user can pin it with {@link #withSha256(String)}. To fill a SHA-256 constant, take it from the
 * dataset's official page if it ever publishes one, or from {@code sha256sum} of an archive whose
 * published MD5 matched; never from memory.
 *
 * @param name         short dataset name for messages, e.g. {@code cifar10}
 * @param url          the archive URL
 * @param sha256       expected lower-case hex SHA-256 of the archive, or null (not verified)
 * @param md5          expected lower-case hex MD5 as published by the dataset authors, or null
 * @param extractedDir the top-level directory inside the archive (and under the data directory afterwards)
 */
public record DownloadSpec(String name, URI url, String sha256, String md5, String extractedDir) {
    /**
     * CIFAR-10 binary version; MD5 {@code c32a1d4a...} as published on
     * https://www.cs.toronto.edu/~kriz/cifar.html (the page lists no SHA-256).
     */
    public static final DownloadSpec CIFAR10 = new DownloadSpec("cifar10",
            URI.create("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), null,
            "c32a1d4ab5d03f1284b67883e8d87530", Cifar10Reader.ARCHIVE_DIR);
    /** CIFAR-100 binary version; MD5 as published on https://www.cs.toronto.edu/~kriz/cifar.html. */
    public static final DownloadSpec CIFAR100 = new DownloadSpec("cifar100",
            URI.create("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"), null,
            "03b5dce01913d631647c71ecec9e9cb8", Cifar100Reader.ARCHIVE_DIR);
    /**
     * STL-10 binary version (2.6 GB); MD5 as used by torchvision's STL10 ({@code tgz_md5}); the STL-10
     * page http://ai.stanford.edu/~acoates/stl10/ publishes no digest.
     */
    public static final DownloadSpec STL10 = new DownloadSpec("stl10",
            URI.create("http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"), null,
            "91f7769df0f17e558f3565bffb0c7dfb", Stl10Reader.ARCHIVE_DIR);

    /** Validates; errors name the field. */
    public DownloadSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(extractedDir, "extractedDir");
        if (!url.isAbsolute() || url.getPath() == null || url.getPath().endsWith("/")) {
            throw new IllegalArgumentException("url must be an absolute URL of a file, got " + url);
        }
        if (extractedDir.isEmpty() || extractedDir.contains("/") || extractedDir.contains("\\")
                || extractedDir.startsWith(".")) {
            throw new IllegalArgumentException("extractedDir must be a plain directory name, got '" + extractedDir + "'");
        }
        sha256 = hex(sha256, 64, "sha256");
        md5 = hex(md5, 32, "md5");
    }

    private static String hex(String v, int len, String field) {
        if (v == null) {
            return null;
        }
        String s = v.toLowerCase(Locale.ROOT);
        if (s.length() != len || !s.chars().allMatch(ch -> (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            throw new IllegalArgumentException(field + " must be " + len + " hex digits, got '" + v + "'");
        }
        return s;
    }

    /** @return the archive's file name (last path segment of the URL) */
    public String fileName() {
        String p = url.getPath();
        return p.substring(p.lastIndexOf('/') + 1);
    }

    /**
     * @param baseUrl a directory URL (a trailing slash is added when missing), e.g. a mirror or a test server
     * @return this spec downloading {@code baseUrl + fileName()}
     */
    public DownloadSpec withBaseUrl(URI baseUrl) {
        String b = baseUrl.toString();
        URI base = URI.create(b.endsWith("/") ? b : b + "/");
        return new DownloadSpec(name, base.resolve(fileName()), sha256, md5, extractedDir);
    }

    /** @return this spec with the given expected SHA-256 (null = not verified) */
    public DownloadSpec withSha256(String sha256) {
        return new DownloadSpec(name, url, sha256, md5, extractedDir);
    }

    /** @return this spec with the given expected MD5 (null = not verified) */
    public DownloadSpec withMd5(String md5) {
        return new DownloadSpec(name, url, sha256, md5, extractedDir);
    }
}
