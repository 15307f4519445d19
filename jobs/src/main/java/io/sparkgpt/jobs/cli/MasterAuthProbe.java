package io.sparkgpt.jobs.cli;

import org.apache.spark.network.TransportContext;
import org.apache.spark.network.client.TransportClient;
import org.apache.spark.network.client.TransportClientFactory;
import org.apache.spark.network.server.NoOpRpcHandler;
import org.apache.spark.network.util.MapConfigProvider;
import org.apache.spark.network.util.TransportConf;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Asks a standalone master, over Spark's own RPC transport and without authenticating, whether
 * it requires authentication. A master with spark.authenticate on answers the first
 * unauthenticated message with "Expected SaslMessage, received something else"; one without
 * answers it with a decoding error. Spark's own client would instead retry for a minute and end
 * with "All masters are unresponsive".
 */
final class MasterAuthProbe {
    private static final long TIMEOUT_MS = 5000;

    private MasterAuthProbe() {
    }

    /** True if the master at host:port refused an unauthenticated client; false if it did not or did not answer. */
    static boolean requiresAuthentication(String host, int port) {
        TransportConf conf = new TransportConf("rpc", MapConfigProvider.EMPTY);
        try (TransportContext context = new TransportContext(conf, new NoOpRpcHandler());
             TransportClientFactory factory = context.createClientFactory()) {
            TransportClient client = factory.createClient(host, port);
            client.sendRpcSync(ByteBuffer.wrap(new byte[]{0}), TIMEOUT_MS); // not a message any master accepts
            return false;
        } catch (IOException | InterruptedException e) {
            return false; // unreachable: Sessions.requireReachableMaster says so
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (String.valueOf(t.getMessage()).contains("Expected SaslMessage")) {
                    return true;
                }
            }
            return false;
        }
    }
}
