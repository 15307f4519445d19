package io.sparkgpt.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HDFS and YARN mini clusters (Hadoop's own, from hadoop-client-minicluster) in this JVM, for
 * {@code scripts/local-cluster start --manager yarn} and the integration tests.
 *
 * <p>{@code main} writes {@code DIR/hadoop-conf/{core,yarn}-site.xml} (the HADOOP_CONF_DIR that
 * spark-submit reads: only the file system and ResourceManager addresses, since the mini
 * clusters' full configuration names test classes that containers do not have), prints the
 * {@code hdfs://127.0.0.1:PORT} URI on a line of its own and runs until it is killed.
 */
public final class MiniHadoop implements AutoCloseable {
    private final MiniDFSCluster hdfs;
    private final MiniYARNCluster yarn;

    private MiniHadoop(MiniDFSCluster hdfs, MiniYARNCluster yarn) {
        this.hdfs = hdfs;
        this.yarn = yarn;
    }

    /** A one-DataNode HDFS with its storage under {@code base}. */
    public static MiniDFSCluster startHdfs(Path base) throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toAbsolutePath().toString());
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        return cluster;
    }

    /** The file system's URI as executors on this machine reach it. */
    public static String hdfsUri(MiniDFSCluster cluster) {
        return "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    }

    /** Runs scripts/sparkgpt on local[2] with {@code hdfsUri} as the default file system; returns its exit status. */
    public static int sparkgptOnHdfs(String hdfsUri, Path log, List<String> command) throws Exception {
        List<String> args = new ArrayList<>(List.of("bash", LocalCluster.ROOT.resolve("scripts/sparkgpt").toString(),
                "--master", "local[2]", "--conf", "spark.hadoop.fs.defaultFS=" + hdfsUri));
        args.addAll(command);
        Process p = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("did not finish in 5 minutes: " + log);
        }
        return p.exitValue();
    }

    /** HDFS under {@code dir/hdfs} and a one-NodeManager YARN offering {@code nodeMemoryMb} to containers. */
    public static MiniHadoop start(Path dir, int nodeMemoryMb) throws IOException, InterruptedException {
        MiniDFSCluster hdfs = startHdfs(dir.resolve("hdfs"));
        MiniYARNCluster yarn = new MiniYARNCluster("sparkgpt", 1, 1, 1);
        yarn.init(yarnConf(nodeMemoryMb));
        yarn.start();
        // The ResourceManager's port is chosen when it binds: wait until the configuration has it.
        for (int i = 0; i < 600 && yarn.getConfig().get(YarnConfiguration.RM_ADDRESS).endsWith(":0"); i++) {
            Thread.sleep(100);
        }
        return new MiniHadoop(hdfs, yarn);
    }

    private static YarnConfiguration yarnConf(int nodeMemoryMb) {
        YarnConfiguration conf = new YarnConfiguration();
        // hadoop-client-minicluster has no capacity-scheduler.xml: one queue with everything.
        Map.of("yarn.scheduler.capacity.root.queues", "default",
                "yarn.scheduler.capacity.root.default.capacity", "100",
                "yarn.scheduler.capacity.root.default.maximum-capacity", "100",
                "yarn.scheduler.capacity.root.default.user-limit-factor", "1",
                "yarn.scheduler.capacity.root.default.state", "RUNNING",
                "yarn.scheduler.capacity.root.default.acl_submit_applications", "*",
                "yarn.scheduler.capacity.root.default.acl_administer_queue", "*",
                // The default 0.1 would leave the ApplicationMaster (the driver) no room.
                "yarn.scheduler.capacity.maximum-am-resource-percent", "1.0",
                "yarn.scheduler.capacity.node-locality-delay", "-1").forEach(conf::set);
        conf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        conf.set("yarn.resourcemanager.bind-host", "127.0.0.1");
        conf.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
        // MiniYARNCluster reads its NodeManager's memory from this key, not yarn.nodemanager.resource.memory-mb.
        conf.setInt("yarn.minicluster.yarn.nodemanager.resource.memory-mb", nodeMemoryMb);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, nodeMemoryMb);
        return conf;
    }

    public String hdfsUri() {
        return hdfsUri(hdfs);
    }

    /** Writes core-site.xml and yarn-site.xml with what a client needs, atomically (yarn-site last). */
    public void writeClientConf(Path confDir) throws IOException {
        Files.createDirectories(confDir);
        Configuration core = new Configuration(false);
        core.set("fs.defaultFS", hdfsUri());
        write(core, confDir.resolve("core-site.xml"));
        Configuration site = new Configuration(false);
        for (String key : List.of(YarnConfiguration.RM_ADDRESS, YarnConfiguration.RM_SCHEDULER_ADDRESS,
                YarnConfiguration.RM_RESOURCE_TRACKER_ADDRESS, YarnConfiguration.RM_ADMIN_ADDRESS,
                YarnConfiguration.RM_WEBAPP_ADDRESS)) {
            site.set(key, yarn.getConfig().get(key));
        }
        write(site, confDir.resolve("yarn-site.xml"));
    }

    private static void write(Configuration conf, Path file) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            conf.writeXml(out);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void close() {
        yarn.stop();
        hdfs.shutdown(true);
    }

    /** {@code MiniHadoop --dir DIR [--node-memory-mb MB]}: runs until killed (SIGTERM stops both clusters). */
    public static void main(String[] args) throws Exception {
        Path dir = null;
        int nodeMemoryMb = 12288;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--node-memory-mb" -> nodeMemoryMb = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (dir == null || args.length % 2 != 0) {
            throw new IllegalArgumentException("usage: MiniHadoop --dir DIR [--node-memory-mb MB]");
        }
        MiniHadoop clusters = start(dir, nodeMemoryMb);
        Runtime.getRuntime().addShutdownHook(new Thread(clusters::close));
        clusters.writeClientConf(dir.resolve("hadoop-conf"));
        Path uri = dir.resolve(".hdfs-uri.tmp");
        Files.writeString(uri, clusters.hdfsUri() + "\n"); // written last: the script waits for it
        Files.move(uri, dir.resolve("hdfs-uri"), StandardCopyOption.ATOMIC_MOVE);
        System.out.println(clusters.hdfsUri());
        Thread.currentThread().join();
    }
}
