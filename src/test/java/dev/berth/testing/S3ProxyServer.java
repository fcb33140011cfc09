package dev.berth.testing;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * A real S3 API server (s3proxy) on loopback for tests: over an in-memory blob store, or over a
 * directory so that it can be stopped and started again on the same port with its content.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS = "access";
    public static final String SECRET = "secret-key";

    private final BlobStoreContext context;
    private final int port;
    private S3Proxy proxy;

    private S3ProxyServer(BlobStoreContext context, int port) {
        this.context = context;
        this.port = port;
    }

    /** A server over an in-memory store, with {@code buckets} created. */
    public static S3ProxyServer start(String... buckets) throws Exception {
        return start(ContextBuilder.newBuilder("transient"), buckets);
    }

    /** A server storing under {@code dir}, so that {@link #restart()} keeps the content. */
    public static S3ProxyServer startOnDisk(Path dir, String... buckets) throws Exception {
        return startOnDisk(dir, 0, buckets);
    }

    /** A server storing under {@code dir} on {@code port} (0: a free one). */
    public static S3ProxyServer startOnDisk(Path dir, int port, String... buckets) throws Exception {
        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", dir.toString());
        return start(ContextBuilder.newBuilder("filesystem").overrides(p), port, buckets);
    }

    private static S3ProxyServer start(ContextBuilder builder, String... buckets) throws Exception {
        return start(builder, 0, buckets);
    }

    private static S3ProxyServer start(ContextBuilder builder, int port, String... buckets) throws Exception {
        BlobStoreContext context = builder.credentials(ACCESS, SECRET).build(BlobStoreContext.class);
        for (String b : buckets) {
            context.getBlobStore().createContainerInLocation(null, b);
        }
        S3ProxyServer server = new S3ProxyServer(context, port == 0 ? freePort() : port);
        server.startProxy();
        return server;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private void startProxy() throws Exception {
        BlobStore store = context.getBlobStore();
        proxy = S3Proxy.builder().blobStore(store).awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET)
                .endpoint(URI.create("http://127.0.0.1:" + port)).build();
        proxy.start();
        while (!proxy.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
    }

    /** Stops answering (connections are refused) until {@link #startAgain()}. */
    public void stop() throws Exception {
        proxy.stop();
        while (!proxy.getState().equals("STOPPED")) {
            Thread.sleep(10);
        }
    }

    /** Serves again on the same port with the same content. */
    public void startAgain() throws Exception {
        startProxy();
    }

    public void restart() throws Exception {
        stop();
        startAgain();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The blob store behind the server, to look at what is stored without going through S3. */
    public BlobStore blobStore() {
        return context.getBlobStore();
    }

    /** Config overrides that make a Berth server store in {@code bucket} on this server. */
    public Map<String, String> berthConfig(String bucket, String prefix) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("storage.driver", "s3");
        c.put("storage.s3.bucket", bucket);
        c.put("storage.s3.endpoint", endpoint().toString());
        c.put("storage.s3.pathStyle", "true");
        c.put("storage.s3.prefix", prefix);
        c.put("storage.s3.accessKey", ACCESS);
        c.put("storage.s3.secretKey", SECRET);
        return c;
    }

    public S3Client client() {
        return S3Client.builder().endpointOverride(endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS, SECRET)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                // S3-compatible stores do not all know the SDK's newer default checksums.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(ApacheHttpClient.builder().build()).build();
    }

    public S3Presigner presigner() {
        return S3Presigner.builder().endpointOverride(endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS, SECRET)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build();
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.stop();
        } finally {
            context.close();
        }
    }
}
