package org.umm4j.cli;

import picocli.CommandLine;

/** Reads the version from the jar manifest ({@code dev} when run from classes). */
public final class VersionProvider implements CommandLine.IVersionProvider {
    /** @return the library version, {@code dev} outside a jar */
    public static String version() {
        String v = Umm4j.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[]{"umm4j " + version()};
    }
}
