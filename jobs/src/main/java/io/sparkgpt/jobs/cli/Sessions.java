package io.sparkgpt.jobs.cli;

import io.sparkgpt.jobs.UserInputException;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;

/** Starts the Spark session of a command. The master comes from the launcher or spark-submit. */
public final class Sessions {
    private static final int CONNECT_TIMEOUT_MS = 5000;

    private Sessions() {
    }

    public static SparkSession start(String command) {
        SparkConf conf = new SparkConf();
        requireReachableMaster(conf.get("spark.master", ""));
        requireAuthenticationIfAsked(conf);
        return SparkSession.builder().appName("sparkgpt " + command).getOrCreate();
    }

    /**
     * A standalone master that requires authentication, asked by a client that does not
     * authenticate, fails here in seconds with the fix; Spark itself would retry for a minute and
     * then stop with "All masters are unresponsive".
     */
    static void requireAuthenticationIfAsked(SparkConf conf) {
        String master = conf.get("spark.master", "");
        if (!master.startsWith("spark://") || conf.getBoolean("spark.authenticate", false)) {
            return;
        }
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            URI uri = URI.create("spark://" + hostPort);
            if (MasterAuthProbe.requiresAuthentication(uri.getHost(), uri.getPort())) {
                throw new UserInputException("the Spark master at " + master + " requires authentication "
                        + "(spark.authenticate) and this client does not authenticate: submit with scripts/local-cluster "
                        + "submit (it passes that cluster's secret), or pass --conf spark.authenticate=true and the "
                        + "cluster's secret as --conf spark.authenticate.secret.file=FILE (a file only you can read)");
            }
        }
    }

    /**
     * A standalone master that nothing answers at fails here in seconds, naming it; Spark itself
     * would retry for a minute and then stop with "All masters are unresponsive".
     */
    static void requireReachableMaster(String master) {
        if (!master.startsWith("spark://")) {
            return;
        }
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            URI uri = URI.create("spark://" + hostPort);
            if (uri.getHost() == null || uri.getPort() < 0) {
                throw new UserInputException("--master " + master + " is not spark://HOST:PORT");
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), CONNECT_TIMEOUT_MS);
                return; // one reachable master of a high-availability list is enough
            } catch (IOException e) {
                if (!master.contains(",")) {
                    throw new UserInputException("no Spark master answers at " + master + " (" + e.getMessage()
                            + "): start the cluster (scripts/local-cluster start) or fix --master");
                }
            }
        }
        throw new UserInputException("no Spark master answers at any of " + master
                + ": start the cluster or fix --master");
    }

    /** Stops the session and forgets it, so that a later command in this JVM starts afresh. */
    public static void stop(SparkSession spark) {
        spark.stop();
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }
}
