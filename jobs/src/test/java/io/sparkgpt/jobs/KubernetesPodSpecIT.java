package io.sparkgpt.jobs;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.crud.KubernetesCrudDispatcherException;
import io.fabric8.kubernetes.client.server.mock.crud.PostHandler;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.apache.spark.SparkConf;
import org.apache.spark.SecurityManager;
import org.apache.spark.deploy.k8s.KubernetesConf$;
import org.apache.spark.deploy.k8s.KubernetesDriverConf;
import org.apache.spark.deploy.k8s.KubernetesExecutorConf;
import org.apache.spark.deploy.k8s.submit.JavaMainAppResource;
import org.apache.spark.deploy.k8s.submit.KubernetesClientApplication;
import org.apache.spark.deploy.k8s.submit.KubernetesDriverBuilder;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfile$;
import org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import scala.Option;

import java.io.Reader;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * conf/spark-defaults.k8s.conf and conf/k8s-pod-template.yaml as Spark's own Kubernetes code
 * turns them into pods (no API server can run here): the driver and executor pods carry the
 * memory, overhead, ND4J threads, secret mount and command the README says, and a real
 * submission to fabric8's mock API server creates the driver pod, its ConfigMap and Service.
 */
class KubernetesPodSpecIT {
    private static final String JAR = "local:///opt/sparkgpt/sparkgpt.jar";
    private static final String[] TRAIN = {"train", "--data", "s3a://bucket/datasets/owt", "--checkpoint-dir",
            "s3a://bucket/runs/gpt2", "--preset", "gpt2-small", "--max-steps", "20000"};

    /** The k8s template as spark-submit --properties-file reads it, the pod template named absolutely. */
    private static SparkConf templateConf(String master) throws Exception {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(LocalCluster.ROOT.resolve("conf/spark-defaults.k8s.conf"))) {
            properties.load(in);
        }
        SparkConf conf = new SparkConf(false);
        properties.stringPropertyNames().forEach(k -> conf.set(k, properties.getProperty(k).trim()));
        String template = LocalCluster.ROOT.resolve(conf.get("spark.kubernetes.driver.podTemplateFile")).toString();
        return conf.set("spark.kubernetes.driver.podTemplateFile", template)
                .set("spark.kubernetes.executor.podTemplateFile", template)
                .set("spark.master", master).set("spark.app.name", "sparkgpt-train")
                .set("spark.submit.deployMode", "cluster").set("spark.kubernetes.namespace", "default");
    }

    private static KubernetesClient offlineClient() {
        // Parsing the pod template needs a client, not a server.
        Config config = new ConfigBuilder().withMasterUrl("https://127.0.0.1:1").build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    private static Map<String, String> env(Container c) {
        return c.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue, (a, b) -> b));
    }

    private static void assertSecretMounted(Pod pod, Container c) {
        assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/etc/spark-secret")
                && Boolean.TRUE.equals(m.getReadOnly())), c.getVolumeMounts().toString());
        assertTrue(pod.getSpec().getVolumes().stream().anyMatch(v -> v.getSecret() != null
                && v.getSecret().getSecretName().equals("sparkgpt-spark-auth")), pod.getSpec().getVolumes().toString());
        // The secret is read from the file: never an environment variable or an argument.
        assertFalse(c.getEnv().stream().anyMatch(e -> e.getName().equals("_SPARK_AUTH_SECRET")), c.getEnv().toString());
    }

    @Test
    void theDriverPodCarriesTheTemplatesMemoryThreadsSecretAndCommand() throws Exception {
        SparkConf conf = templateConf("k8s://https://127.0.0.1:1");
        try (KubernetesClient client = offlineClient()) {
            KubernetesDriverConf driverConf = KubernetesConf$.MODULE$.createDriverConf(conf, "spark-app-1",
                    new JavaMainAppResource(Option.apply(JAR)), "io.sparkgpt.jobs.SparkGpt", TRAIN, Option.empty());
            var spec = new KubernetesDriverBuilder().buildFromFeatures(driverConf, client);
            Pod pod = spec.pod().pod();
            Container c = spec.pod().container();
            assertEquals("REGISTRY/sparkgpt:0.1.0", c.getImage());
            // 16g heap + 8g overhead for ND4J's off-heap arrays.
            assertEquals(new Quantity("24576Mi"), c.getResources().getLimits().get("memory"));
            assertEquals("4", env(c).get("OMP_NUM_THREADS"));
            assertEquals("131072", env(c).get("MALLOC_MMAP_THRESHOLD_"), "a fixed mmap threshold (freed native memory goes back)");
            assertEquals("spark", pod.getSpec().getServiceAccountName());
            assertSecretMounted(pod, c);
            List<String> args = c.getArgs();
            assertEquals(List.of("driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class",
                    "io.sparkgpt.jobs.SparkGpt", JAR), args.subList(0, 6));
            assertEquals(List.of(TRAIN), args.subList(6, args.size()));
        }
    }

    @Test
    void anExecutorPodCarriesTheTemplatesMemoryThreadsAndSecret() throws Exception {
        // The driver reads the secret it hands to executors from its own mounted file; here, a test file.
        Path secret = Files.writeString(Files.createTempFile("spark-secret", ""), "test-secret-4f1d");
        SparkConf conf = templateConf("k8s://https://127.0.0.1:1").set("spark.kubernetes.driver.pod.name", "driver")
                .set("spark.authenticate.secret.driver.file", secret.toString());
        try (KubernetesClient client = offlineClient()) {
            KubernetesExecutorConf executorConf = KubernetesConf$.MODULE$.createExecutorConf(conf, "1", "spark-app-1",
                    Option.empty(), ResourceProfile.DEFAULT_RESOURCE_PROFILE_ID());
            SecurityManager security = new SecurityManager(conf, Option.empty(),
                    org.apache.spark.internal.config.package$.MODULE$.AUTH_SECRET_FILE_DRIVER());
            var spec = new KubernetesExecutorBuilder().buildFromFeatures(executorConf, security, client,
                    ResourceProfile$.MODULE$.getOrCreateDefaultProfile(conf));
            Pod pod = spec.pod().pod();
            Container c = spec.pod().container();
            // 8g heap + 14g overhead (ND4J's arrays and the block manager's direct buffers).
            assertEquals(new Quantity("22528Mi"), c.getResources().getLimits().get("memory"));
            assertEquals(new Quantity("4"), c.getResources().getRequests().get("cpu"));
            assertEquals("4", env(c).get("OMP_NUM_THREADS"));
            assertEquals("131072", env(c).get("MALLOC_MMAP_THRESHOLD_"));
            assertFalse(pod.toString().contains("test-secret-4f1d"), "the secret is nowhere in the pod spec");
            assertSecretMounted(pod, c);
        }
    }

    /**
     * Spark's default resource profile is a JVM-wide cache that only SparkContext.stop clears.
     * Built here from the template's 4 cores a task, it would starve every later local[2]
     * SparkContext in this test JVM.
     */
    @AfterEach
    void forgetTheTemplatesResourceProfile() {
        ResourceProfile$.MODULE$.clearDefaultProfile();
    }

    /**
     * Spark 3.5 creates the ConfigMap and Service by server-side apply, which fabric8's CRUD mock
     * answers 404 for an object that does not exist yet (fabric8io/kubernetes-client#5337):
     * apply it as the create a real API server performs.
     */
    static final class ApplyCreatesDispatcher extends KubernetesCrudDispatcher {
        @Override
        public MockResponse handlePatch(RecordedRequest request) {
            String body = request.getBody().clone().readUtf8();
            MockResponse response = super.handlePatch(request);
            String type = request.getHeader("Content-Type");
            if (!response.getStatus().contains(" 404") || type == null || !type.startsWith("application/apply-patch")) {
                return response;
            }
            String path = request.getPath().replaceFirst("\\?.*$", "");
            try {
                return new PostHandler(new KubernetesAttributesExtractor(), this)
                        .handle(path.substring(0, path.lastIndexOf('/')), "application/json", body);
            } catch (KubernetesCrudDispatcherException e) {
                return new MockResponse().setResponseCode(e.getCode()).setBody(e.getMessage());
            }
        }
    }

    @Test
    void aSubmissionCreatesTheDriverPodItsConfigMapAndService() throws Exception {
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new ApplyCreatesDispatcher(), false);
        server.init(InetAddress.getByName("127.0.0.1"), 0);
        try (KubernetesClient client = server.createClient()) {
            String api = "http://127.0.0.1:" + server.getPort();
            SparkConf conf = templateConf("k8s://" + api).set("spark.kubernetes.submission.waitAppCompletion", "false");
            List<String> args = new java.util.ArrayList<>(List.of("--primary-java-resource", JAR, "--main-class",
                    "io.sparkgpt.jobs.SparkGpt"));
            for (String a : TRAIN) {
                args.addAll(List.of("--arg", a));
            }
            new KubernetesClientApplication().start(args.toArray(String[]::new), conf);
            List<Pod> pods = client.pods().inNamespace("default").list().getItems();
            assertEquals(1, pods.size(), pods.toString());
            Pod driver = pods.get(0);
            assertEquals("driver", driver.getMetadata().getLabels().get("spark-role"));
            assertEquals(new Quantity("24576Mi"), driver.getSpec().getContainers().get(0).getResources().getLimits().get("memory"));
            String app = driver.getMetadata().getLabels().get("spark-app-selector");
            var configMaps = client.configMaps().inNamespace("default").list().getItems();
            assertTrue(configMaps.stream().anyMatch(m -> m.getData().containsKey("spark.properties")
                    && m.getData().get("spark.properties").contains("spark.app.id=" + app)), configMaps.toString());
            var services = client.services().inNamespace("default").list().getItems();
            assertEquals(1, services.size(), services.toString());
            assertEquals(driver.getMetadata().getName(), services.get(0).getMetadata().getOwnerReferences().get(0).getName());
        } finally {
            server.destroy();
        }
    }
}
