package io.sparkgpt.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * HDFS and YARN mini clusters for integration tests, driven through
 * {@code scripts/local-cluster start --manager yarn} as a user runs them; submissions go to YARN in
 * cluster deploy mode and exit with the application's final status.
 */
public final class YarnCluster implements AutoCloseable {
    private static final Pattern APPLICATION = Pattern.compile("Submitting application (application_\\d+_\\d+)");
    private final Path state;
    private final String hdfsUri;

    private YarnCluster(Path state, String hdfsUri) {
        this.state = state;
        this.hdfsUri = hdfsUri;
    }

    public static YarnCluster start(Path state) throws IOException, InterruptedException {
        Path log = state.resolve("start.log");
        Process p = script(state, List.of("start", "--manager", "yarn"), log);
        if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("HDFS and YARN did not start: " + Files.readString(log));
        }
        // The URI is printed on a line of its own, for scripts to take.
        String uri = Files.readAllLines(log).stream().filter(l -> l.startsWith("hdfs://")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no hdfs:// line in " + log));
        return new YarnCluster(state, uri);
    }

    /** {@code hdfs://127.0.0.1:PORT}, the default file system of every submission. */
    public String hdfsUri() {
        return hdfsUri;
    }

    /** Submits a sparkgpt command (YARN cluster mode, 2 executors) and waits at most 10 minutes; returns its exit status. */
    public int submit(Path log, String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("submit", "--num-executors", "2"));
        args.addAll(List.of(command));
        Process p = script(state, args, log);
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("submission did not finish in 10 minutes: " + log);
        }
        return p.exitValue();
    }

    /** The driver's stdout (the ApplicationMaster's container) of the application a submission log names. */
    public String driverStdout(Path submissionLog) throws IOException {
        Matcher m = APPLICATION.matcher(Files.readString(submissionLog));
        if (!m.find()) {
            throw new IllegalStateException("no application id in " + submissionLog);
        }
        String app = m.group(1);
        String am = "container_" + app.substring("application_".length()) + "_01_000001";
        try (Stream<Path> files = Files.walk(state.resolve("target"))) {
            Path stdout = files.filter(f -> f.endsWith(Path.of(app, am, "stdout"))).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no log of " + am + " under " + state));
            return Files.readString(stdout);
        }
    }

    private static Process script(Path state, List<String> args, Path log) throws IOException {
        return LocalCluster.script(state, Map.of(), args, log);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        script(state, List.of("stop"), state.resolve("stop.log")).waitFor(60, TimeUnit.SECONDS);
    }
}
