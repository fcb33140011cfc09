package dev.berth.storage.s3;

import java.net.URI;
import java.util.Properties;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** A real S3 API server (s3proxy over an in-memory blob store) on loopback, for tests. */
final class S3ProxyServer implements AutoCloseable {
    static final String ACCESS = "access";
    static final String SECRET = "secret-key";

    private final S3Proxy proxy;
    private final BlobStoreContext context;

    private S3ProxyServer(S3Proxy proxy, BlobStoreContext context) {
        this.proxy = proxy;
        this.context = context;
    }

    static S3ProxyServer start(String... buckets) throws Exception {
        BlobStoreContext context = ContextBuilder.newBuilder("transient").credentials(ACCESS, SECRET)
                .overrides(new Properties()).build(BlobStoreContext.class);
        BlobStore store = context.getBlobStore();
        for (String b : buckets) {
            store.createContainerInLocation(null, b);
        }
        S3Proxy proxy = S3Proxy.builder().blobStore(store).awsAuthentication(org.gaul.s3proxy.AuthenticationType.AWS_V2_OR_V4,
                ACCESS, SECRET).endpoint(URI.create("http://127.0.0.1:0")).build();
        proxy.start();
        while (!proxy.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
        return new S3ProxyServer(proxy, context);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    S3Client client() {
        return S3Client.builder().endpointOverride(endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS, SECRET)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                // S3-compatible stores do not all know the SDK's newer default checksums.
                .requestChecksumCalculation(software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(ApacheHttpClient.builder().build()).build();
    }

    S3Presigner presigner() {
        return S3Presigner.builder().endpointOverride(endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS, SECRET)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build();
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        context.close();
    }
}
