package dev.rg.cli;

import picocli.CommandLine;

/** {@code rg --version}. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Version.class.getModule().getDescriptor() != null
                ? Version.class.getModule().getDescriptor().rawVersion().orElse("0.1.0-SNAPSHOT") : "0.1.0-SNAPSHOT";
        return new String[] {"rg " + v, "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
