package io.sparkgpt.jobs.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * The driver's Hadoop configuration, shipped to executors (once, as a broadcast) so that they
 * read with the same file system settings (spark.hadoop.*, S3 credentials providers) as the
 * driver. Hadoop's Configuration is Writable but not Serializable.
 */
public final class HadoopConf implements Serializable {
    private static final long serialVersionUID = 1L;
    private transient Configuration conf;
    /** The last broadcast, for the context and the exact properties it was made of. */
    private static SparkContext lastContext;
    private static Map<String, String> lastProperties;
    private static Broadcast<HadoopConf> last;

    public HadoopConf(Configuration conf) {
        this.conf = conf;
    }

    /**
     * {@code jsc}'s Hadoop configuration as a broadcast, made again only when a property changed:
     * serializing and broadcasting its ~1,000 properties cost a small tokenize job 60-80 ms.
     */
    public static synchronized Broadcast<HadoopConf> broadcast(JavaSparkContext jsc) {
        Configuration current = jsc.hadoopConfiguration();
        Map<String, String> properties = new HashMap<>();
        current.forEach(e -> properties.put(e.getKey(), e.getValue()));
        if (last == null || lastContext != jsc.sc() || jsc.sc().isStopped() || !properties.equals(lastProperties)) {
            last = jsc.broadcast(new HadoopConf(new Configuration(current)));
            lastContext = jsc.sc();
            lastProperties = properties;
        }
        return last;
    }

    public Configuration get() {
        return conf;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException {
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
