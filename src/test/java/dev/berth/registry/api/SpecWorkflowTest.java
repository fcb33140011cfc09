package dev.berth.registry.api;

import static dev.berth.testing.Fixtures.DOCKER_LIST;
import static dev.berth.testing.Fixtures.DOCKER_MANIFEST;
import static dev.berth.testing.Fixtures.OCI_CONFIG;
import static dev.berth.testing.Fixtures.OCI_EMPTY;
import static dev.berth.testing.Fixtures.OCI_INDEX;
import static dev.berth.testing.Fixtures.OCI_LAYER;
import static dev.berth.testing.Fixtures.OCI_MANIFEST;
import static dev.berth.testing.Fixtures.assertError;
import static dev.berth.testing.Fixtures.descriptor;
import static dev.berth.testing.Fixtures.header;
import static dev.berth.testing.Fixtures.json;
import static dev.berth.testing.Fixtures.pushImage;
import static dev.berth.testing.Fixtures.randomBytes;
import static dev.berth.testing.RegistryClient.expect;
import static dev.berth.testing.RegistryClient.sha256;
import static dev.berth.testing.RegistryClient.sha512;
import static dev.berth.testing.RegistryClient.withQuery;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.testing.Fixtures.Image;
import dev.berth.testing.RegistryClient;
import dev.berth.testing.TestRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI Distribution Spec v1.1 workflows against a real Berth server: every endpoint, its
 * statuses and headers, and each error case, with a plain HTTP client.
 */
class SpecWorkflowTest {
    @TempDir
    static Path storage;
    static TestRegistry registry;
    static RegistryClient client;
    private static final AtomicInteger REPOS = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        registry = TestRegistry.start(storage);
        client = registry.client();
    }

    @AfterAll
    static void stop() throws Exception {
        registry.close();
    }

    /** A fresh repository name per test, so tests never see each other's content. */
    static String repo() {
        return "spec/r" + REPOS.incrementAndGet();
    }

    private static String uploadLocation(String repo) {
        HttpResponse<byte[]> r = client.post("/v2/" + repo + "/blobs/uploads/", new byte[0]);
        expect(r, 202);
        return header(r, "Location");
    }

    @Nested
    class Base {
        @Test
        void versionCheckAnswers200WithApiVersionHeader() {
            HttpResponse<byte[]> r = client.get("/v2/");
            assertEquals(200, r.statusCode());
            assertEquals("registry/2.0", header(r, "Docker-Distribution-API-Version"));
            assertEquals("{}", new String(r.body(), StandardCharsets.UTF_8));
            assertEquals(200, client.head("/v2/").statusCode());
        }

        @Test
        void unknownEndpointIsA404ErrorWithTheApiVersionHeader() {
            assertError(client.get("/v2/x/y/unknown/thing/"), 404, "NOT_FOUND");
            assertError(client.get("/nothing"), 404, "NOT_FOUND");
        }

        @Test
        void wrongMethodIsUnsupported() {
            String repo = repo();
            assertError(client.post("/v2/" + repo + "/tags/list", new byte[0]), 405, "UNSUPPORTED");
        }
    }

    @Nested
    class BlobPull {
        @Test
        void getAndHeadServeTheBlobWithDigestAndLength() {
            String repo = repo();
            byte[] blob = randomBytes(3000);
            String digest = client.pushBlob(repo, blob);
            HttpResponse<byte[]> get = client.get("/v2/" + repo + "/blobs/" + digest);
            assertEquals(200, get.statusCode());
            assertArrayEquals(blob, get.body());
            assertEquals(digest, header(get, "Docker-Content-Digest"));
            assertEquals("3000", header(get, "Content-Length"));
            assertEquals("bytes", header(get, "Accept-Ranges"));
            HttpResponse<byte[]> head = client.head("/v2/" + repo + "/blobs/" + digest);
            assertEquals(200, head.statusCode());
            assertEquals("3000", header(head, "Content-Length"));
            assertEquals(digest, header(head, "Docker-Content-Digest"));
            assertEquals(0, head.body().length);
        }

        @Test
        void singleRangeRequestsGet206UnsatisfiableOnes416AndInvalidOnesAreIgnored() {
            String repo = repo();
            byte[] blob = randomBytes(100);
            String digest = client.pushBlob(repo, blob);
            String path = "/v2/" + repo + "/blobs/" + digest;

            HttpResponse<byte[]> first = client.get(path, "Range", "bytes=0-9");
            assertEquals(206, first.statusCode());
            assertArrayEquals(Arrays.copyOfRange(blob, 0, 10), first.body());
            assertEquals("bytes 0-9/100", header(first, "Content-Range"));
            assertEquals("10", header(first, "Content-Length"));
            assertEquals(digest, header(first, "Docker-Content-Digest"));

            HttpResponse<byte[]> open = client.get(path, "Range", "bytes=90-");
            assertEquals(206, open.statusCode());
            assertArrayEquals(Arrays.copyOfRange(blob, 90, 100), open.body());

            HttpResponse<byte[]> suffix = client.get(path, "Range", "bytes=-5");
            assertEquals(206, suffix.statusCode());
            assertArrayEquals(Arrays.copyOfRange(blob, 95, 100), suffix.body());
            assertEquals("bytes 95-99/100", header(suffix, "Content-Range"));

            HttpResponse<byte[]> clamped = client.get(path, "Range", "bytes=50-1000");
            assertEquals(206, clamped.statusCode());
            assertEquals(50, clamped.body().length);

            HttpResponse<byte[]> beyond = client.get(path, "Range", "bytes=100-200");
            assertError(beyond, 416, "RANGE_INVALID");
            assertEquals("bytes */100", header(beyond, "Content-Range"));
            // Multi-part and invalid ranges are ignored (RFC 9110): the whole blob.
            assertArrayEquals(blob, client.get(path, "Range", "bytes=0-1,5-6").body());
            assertEquals(200, client.get(path, "Range", "bytes=9-3").statusCode());
        }

        @Test
        void unknownBlobIs404AndMalformedDigestIs400() {
            String repo = repo();
            String missing = sha256("nothing here".getBytes(StandardCharsets.UTF_8));
            JsonObject error = assertError(client.get("/v2/" + repo + "/blobs/" + missing), 404, "BLOB_UNKNOWN");
            assertEquals(missing, error.getJsonObject("detail").getString("digest"));
            HttpResponse<byte[]> head = client.head("/v2/" + repo + "/blobs/" + missing);
            assertEquals(404, head.statusCode());
            assertEquals(0, head.body().length);
            assertError(client.get("/v2/" + repo + "/blobs/sha256:xyz"), 400, "DIGEST_INVALID");
            assertError(client.get("/v2/" + repo + "/blobs/md5:d41d8cd98f00b204e9800998ecf8427e"), 400, "DIGEST_INVALID");
        }

        @Test
        void aBlobIsServedOnlyFromRepositoriesItWasPushedOrMountedTo() {
            String repo = repo();
            String digest = client.pushBlob(repo, randomBytes(10));
            assertError(client.get("/v2/" + repo() + "/blobs/" + digest), 404, "BLOB_UNKNOWN");
        }

        @Test
        void etagAllowsConditionalGet() {
            String repo = repo();
            String digest = client.pushBlob(repo, randomBytes(10));
            HttpResponse<byte[]> r = client.get("/v2/" + repo + "/blobs/" + digest, "If-None-Match", "\"" + digest + "\"");
            assertEquals(304, r.statusCode());
        }
    }

    @Nested
    class Uploads {
        @Test
        void postStartsASessionWithLocationRangeAndUuid() {
            String repo = repo();
            HttpResponse<byte[]> r = client.post("/v2/" + repo + "/blobs/uploads/", new byte[0]);
            assertEquals(202, r.statusCode());
            String location = header(r, "Location");
            assertTrue(location.startsWith("/v2/" + repo + "/blobs/uploads/"), location);
            assertEquals("0-0", header(r, "Range"));
            String uuid = header(r, "Docker-Upload-UUID");
            assertTrue(location.endsWith(uuid));
            assertEquals(uuid, header(r, "Blob-Upload-Session-ID"));
            HttpResponse<byte[]> status = client.get(location);
            assertEquals(204, status.statusCode());
            assertEquals("0-0", header(status, "Range"));
            assertEquals(location, header(status, "Location"));
        }

        @Test
        void singlePostWithDigestIsAMonolithicUpload() {
            String repo = repo();
            byte[] blob = randomBytes(5000);
            String digest = sha256(blob);
            HttpResponse<byte[]> r = client.post("/v2/" + repo + "/blobs/uploads/?digest=" + digest, blob,
                    "Content-Type", "application/octet-stream");
            assertEquals(201, r.statusCode());
            assertEquals("/v2/" + repo + "/blobs/" + digest, header(r, "Location"));
            assertEquals(digest, header(r, "Docker-Content-Digest"));
            assertArrayEquals(blob, client.get(header(r, "Location")).body());
        }

        @Test
        void singlePostWithAWrongDigestIsRejectedAndStoresNothing() {
            String repo = repo();
            byte[] blob = randomBytes(100);
            String wrong = sha256("other".getBytes(StandardCharsets.UTF_8));
            assertError(client.post("/v2/" + repo + "/blobs/uploads/?digest=" + wrong, blob), 400, "DIGEST_INVALID");
            assertEquals(404, client.head("/v2/" + repo + "/blobs/" + wrong).statusCode());
            assertEquals(404, client.head("/v2/" + repo + "/blobs/" + sha256(blob)).statusCode());
        }

        @Test
        void postThenPutWithTheWholeBlob() {
            String repo = repo();
            byte[] blob = randomBytes(4096);
            String location = uploadLocation(repo);
            HttpResponse<byte[]> r = client.put(withQuery(location, "digest=" + sha256(blob)), blob);
            assertEquals(201, r.statusCode());
            assertEquals(sha256(blob), header(r, "Docker-Content-Digest"));
            assertEquals("0", header(r, "Content-Length"));
            assertArrayEquals(blob, client.get("/v2/" + repo + "/blobs/" + sha256(blob)).body());
            // The session is finished.
            assertError(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
        }

        @Test
        void chunkedUploadWithContentRangeThenEmptyPut() {
            String repo = repo();
            byte[] blob = randomBytes(30);
            String location = uploadLocation(repo);
            HttpResponse<byte[]> first = client.patch(location, Arrays.copyOfRange(blob, 0, 10),
                    "Content-Range", "0-9", "Content-Type", "application/octet-stream");
            assertEquals(202, first.statusCode());
            assertEquals("0-9", header(first, "Range"));
            location = header(first, "Location");
            HttpResponse<byte[]> second = client.patch(location, Arrays.copyOfRange(blob, 10, 20), "Content-Range", "10-19");
            assertEquals(202, second.statusCode());
            assertEquals("0-19", header(second, "Range"));
            HttpResponse<byte[]> status = client.get(location);
            assertEquals(204, status.statusCode());
            assertEquals("0-19", header(status, "Range"));
            // The last chunk comes with the PUT.
            HttpResponse<byte[]> done = client.put(withQuery(location, "digest=" + sha256(blob)),
                    Arrays.copyOfRange(blob, 20, 30), "Content-Range", "20-29");
            assertEquals(201, done.statusCode());
            assertArrayEquals(blob, client.get("/v2/" + repo + "/blobs/" + sha256(blob)).body());
        }

        @Test
        void chunksOutOfOrderOrRepeatedGet416WithTheCurrentRange() {
            String repo = repo();
            byte[] blob = randomBytes(20);
            String location = uploadLocation(repo);
            HttpResponse<byte[]> skipped = client.patch(location, Arrays.copyOfRange(blob, 10, 20), "Content-Range", "10-19");
            assertError(skipped, 416, "BLOB_UPLOAD_INVALID");
            assertEquals("0-0", header(skipped, "Range"));
            assertEquals(location, header(skipped, "Location"));
            expect(client.patch(location, Arrays.copyOfRange(blob, 0, 10), "Content-Range", "0-9"), 202);
            HttpResponse<byte[]> repeated = client.patch(location, Arrays.copyOfRange(blob, 0, 10), "Content-Range", "0-9");
            assertError(repeated, 416, "BLOB_UPLOAD_INVALID");
            assertEquals("0-9", header(repeated, "Range"));
            // The session is intact and completes.
            expect(client.put(withQuery(location, "digest=" + sha256(blob)), Arrays.copyOfRange(blob, 10, 20),
                    "Content-Range", "10-19"), 201);
        }

        @Test
        void malformedContentRangeIs416AndMismatchedLengthIs400() {
            String repo = repo();
            String location = uploadLocation(repo);
            assertError(client.patch(location, randomBytes(10), "Content-Range", "zero-nine"), 416, "BLOB_UPLOAD_INVALID");
            assertError(client.patch(location, randomBytes(10), "Content-Range", "9-0"), 416, "BLOB_UPLOAD_INVALID");
            assertError(client.patch(location, randomBytes(10), "Content-Range", "0-4"), 400, "SIZE_INVALID");
            assertEquals("0-0", header(client.get(location), "Range"));
        }

        @Test
        void streamedPatchWithoutContentRangeOrLength() {
            String repo = repo();
            byte[] blob = randomBytes(3 * 1024 * 1024 + 17);
            String location = uploadLocation(repo);
            // ofInputStream has no length: the client sends Transfer-Encoding: chunked.
            HttpResponse<byte[]> r = client.send(client.request(location)
                    .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(blob)))
                    .build());
            assertEquals(202, r.statusCode());
            assertEquals("0-" + (blob.length - 1), header(r, "Range"));
            HttpResponse<byte[]> done = client.put(withQuery(header(r, "Location"), "digest=" + sha256(blob)), new byte[0]);
            assertEquals(201, done.statusCode());
            assertArrayEquals(blob, client.get("/v2/" + repo + "/blobs/" + sha256(blob)).body());
        }

        @Test
        void aChunkedBodyLongerThanItsContentRangeIs416WithTheActualRange() {
            String repo = repo();
            String location = uploadLocation(repo);
            byte[] twenty = randomBytes(20);
            HttpResponse<byte[]> r = client.send(client.request(location).header("Content-Range", "0-9")
                    .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(twenty)))
                    .build());
            assertError(r, 416, "BLOB_UPLOAD_INVALID");
            assertEquals("0-19", header(r, "Range"));
        }

        @Test
        void theUploadCollectionIsNotABlob() {
            // It is a resource for POST only, not a malformed digest.
            assertError(client.get("/v2/" + repo() + "/blobs/uploads"), 405, "UNSUPPORTED");
        }

        @Test
        void putWithAWrongDigestIs400AndEndsTheSession() {
            String repo = repo();
            byte[] blob = randomBytes(64);
            String location = uploadLocation(repo);
            expect(client.patch(location, blob), 202);
            String wrong = sha256(randomBytes(8));
            JsonObject error = assertError(client.put(withQuery(location, "digest=" + wrong), new byte[0]), 400, "DIGEST_INVALID");
            assertEquals(wrong, error.getJsonObject("detail").getString("expected"));
            assertEquals(sha256(blob), error.getJsonObject("detail").getString("actual"));
            assertError(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
            assertEquals(404, client.head("/v2/" + repo + "/blobs/" + sha256(blob)).statusCode());
        }

        @Test
        void putWithoutDigestOrWithAMalformedOneIs400() {
            String repo = repo();
            String location = uploadLocation(repo);
            assertError(client.put(location, randomBytes(5)), 400, "DIGEST_INVALID");
            String again = uploadLocation(repo);
            assertError(client.put(withQuery(again, "digest=sha256:1234"), new byte[0]), 400, "DIGEST_INVALID");
        }

        @Test
        void sha512BlobsUploadAndServeByTheirDigest() {
            String repo = repo();
            byte[] blob = randomBytes(2048);
            String digest = sha512(blob);
            String location = uploadLocation(repo);
            expect(client.patch(location, blob), 202);
            HttpResponse<byte[]> r = client.put(withQuery(location, "digest=" + digest), new byte[0]);
            assertEquals(201, r.statusCode());
            assertEquals(digest, header(r, "Docker-Content-Digest"));
            assertArrayEquals(blob, client.get("/v2/" + repo + "/blobs/" + digest).body());
            // Monolithic sha512 too; a wrong one is refused.
            byte[] other = randomBytes(99);
            expect(client.post("/v2/" + repo + "/blobs/uploads/?digest=" + sha512(other), other), 201);
            assertError(client.post("/v2/" + repo + "/blobs/uploads/?digest=" + sha512(blob), other), 400, "DIGEST_INVALID");
        }

        @Test
        void emptyBlobUploads() {
            String repo = repo();
            String digest = sha256(new byte[0]);
            expect(client.put(withQuery(uploadLocation(repo), "digest=" + digest), new byte[0]), 201);
            HttpResponse<byte[]> head = client.head("/v2/" + repo + "/blobs/" + digest);
            assertEquals(200, head.statusCode());
            assertEquals("0", header(head, "Content-Length"));
        }

        @Test
        void deleteCancelsTheSession() {
            String repo = repo();
            String location = uploadLocation(repo);
            expect(client.patch(location, randomBytes(100)), 202);
            assertEquals(204, client.delete(location).statusCode());
            assertError(client.get(location), 404, "BLOB_UPLOAD_UNKNOWN");
            assertError(client.delete(location), 404, "BLOB_UPLOAD_UNKNOWN");
            assertError(client.patch(location, randomBytes(10)), 404, "BLOB_UPLOAD_UNKNOWN");
        }

        @Test
        void unknownOrMalformedSessionIdsAre404() {
            String repo = repo();
            assertError(client.get("/v2/" + repo + "/blobs/uploads/00000000-0000-0000-0000-000000000000"), 404,
                    "BLOB_UPLOAD_UNKNOWN");
            assertError(client.get("/v2/" + repo + "/blobs/uploads/not-a-uuid"), 404, "BLOB_UPLOAD_UNKNOWN");
            // Dot segments are resolved before routing, so this never reaches an upload at all.
            assertError(client.put("/v2/" + repo + "/blobs/uploads/..?digest=" + sha256(new byte[0]), new byte[0]), 404,
                    "NOT_FOUND");
        }

        @Test
        void aSessionBelongsToItsRepository() {
            String repo = repo();
            String location = uploadLocation(repo);
            String uuid = location.substring(location.lastIndexOf('/') + 1);
            assertError(client.get("/v2/" + repo() + "/blobs/uploads/" + uuid), 404, "BLOB_UPLOAD_UNKNOWN");
        }
    }

    @Nested
    class Mounts {
        @Test
        void mountFromAnotherRepository() {
            String source = repo();
            String target = repo();
            byte[] blob = randomBytes(500);
            String digest = client.pushBlob(source, blob);
            HttpResponse<byte[]> r = client.post("/v2/" + target + "/blobs/uploads/?mount=" + digest + "&from=" + source,
                    new byte[0]);
            assertEquals(201, r.statusCode());
            assertEquals("/v2/" + target + "/blobs/" + digest, header(r, "Location"));
            assertEquals(digest, header(r, "Docker-Content-Digest"));
            assertArrayEquals(blob, client.get("/v2/" + target + "/blobs/" + digest).body());
        }

        @Test
        void mountFromARepositoryWithoutTheBlobStartsASession() {
            String target = repo();
            String digest = client.pushBlob(repo(), randomBytes(10));
            HttpResponse<byte[]> r = client.post("/v2/" + target + "/blobs/uploads/?mount=" + digest + "&from=" + repo(),
                    new byte[0]);
            assertEquals(202, r.statusCode());
            assertTrue(header(r, "Location").startsWith("/v2/" + target + "/blobs/uploads/"));
            assertEquals(404, client.head("/v2/" + target + "/blobs/" + digest).statusCode());
        }

        @Test
        void mountWithoutFromUsesAnyRepositoryThatHasTheBlob() {
            String target = repo();
            String digest = client.pushBlob(repo(), randomBytes(10));
            HttpResponse<byte[]> r = client.post("/v2/" + target + "/blobs/uploads/?mount=" + digest, new byte[0]);
            assertEquals(201, r.statusCode());
            assertEquals(200, client.head("/v2/" + target + "/blobs/" + digest).statusCode());
            String absent = sha256("never pushed".getBytes(StandardCharsets.UTF_8));
            HttpResponse<byte[]> none = client.post("/v2/" + target + "/blobs/uploads/?mount=" + absent, new byte[0]);
            assertEquals(202, none.statusCode());
        }

        @Test
        void mountWithBadArgumentsFallsBackToAnUploadSession() {
            String target = repo();
            assertEquals(202, client.post("/v2/" + target + "/blobs/uploads/?mount=sha256:bad&from=" + repo(),
                    new byte[0]).statusCode());
            String digest = client.pushBlob(repo(), randomBytes(10));
            assertEquals(202, client.post("/v2/" + target + "/blobs/uploads/?mount=" + digest + "&from=Bad..Name",
                    new byte[0]).statusCode());
        }
    }

    @Nested
    class BlobDelete {
        @Test
        void deleteRemovesTheBlobFromTheRepositoryOnly() {
            String repo = repo();
            String other = repo();
            byte[] blob = randomBytes(10);
            String digest = client.pushBlob(repo, blob);
            client.pushBlob(other, blob);
            HttpResponse<byte[]> r = client.delete("/v2/" + repo + "/blobs/" + digest);
            assertEquals(202, r.statusCode());
            assertEquals(404, client.head("/v2/" + repo + "/blobs/" + digest).statusCode());
            assertEquals(200, client.head("/v2/" + other + "/blobs/" + digest).statusCode());
            assertError(client.delete("/v2/" + repo + "/blobs/" + digest), 404, "BLOB_UNKNOWN");
            assertError(client.delete("/v2/" + repo + "/blobs/sha256:zz"), 400, "DIGEST_INVALID");
        }
    }

    @Nested
    class Manifests {
        @Test
        void putByTagThenGetAndHeadByTagAndDigest() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            for (String ref : List.of("v1", image.digest())) {
                HttpResponse<byte[]> get = client.get("/v2/" + repo + "/manifests/" + ref, "Accept", OCI_MANIFEST);
                assertEquals(200, get.statusCode());
                assertArrayEquals(image.manifest(), get.body());
                assertEquals(OCI_MANIFEST, header(get, "Content-Type"));
                assertEquals(image.digest(), header(get, "Docker-Content-Digest"));
                HttpResponse<byte[]> head = client.head("/v2/" + repo + "/manifests/" + ref, "Accept", OCI_MANIFEST);
                assertEquals(200, head.statusCode());
                assertEquals(Integer.toString(image.manifest().length), header(head, "Content-Length"));
                assertEquals(image.digest(), header(head, "Docker-Content-Digest"));
                assertEquals(OCI_MANIFEST, header(head, "Content-Type"));
            }
        }

        @Test
        void putAnswers201WithLocationAndDigest() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            HttpResponse<byte[]> again = client.put("/v2/" + repo + "/manifests/v2", image.manifest(),
                    "Content-Type", OCI_MANIFEST);
            assertEquals(201, again.statusCode());
            assertEquals("/v2/" + repo + "/manifests/" + image.digest(), header(again, "Location"));
            assertEquals(image.digest(), header(again, "Docker-Content-Digest"));
            assertNull(header(again, "OCI-Subject"));
        }

        @Test
        void putByDigestAndWithTagParameters() {
            String repo = repo();
            Image image = pushImage(client, repo, "first");
            HttpResponse<byte[]> byDigest = client.put("/v2/" + repo + "/manifests/" + image.digest()
                    + "?tag=1.0&tag=1.0.1&tag=latest", image.manifest(), "Content-Type", OCI_MANIFEST);
            assertEquals(201, byDigest.statusCode());
            assertEquals(List.of("1.0", "1.0.1", "latest"), byDigest.headers().allValues("OCI-Tag"));
            JsonArray tags = json(client.get("/v2/" + repo + "/tags/list")).getJsonArray("tags");
            assertEquals(new JsonArray(List.of("1.0", "1.0.1", "first", "latest")), tags);
            assertArrayEquals(image.manifest(), client.get("/v2/" + repo + "/manifests/1.0.1").body());
            assertError(client.put("/v2/" + repo + "/manifests/" + image.digest() + "?tag=-bad", image.manifest(),
                    "Content-Type", OCI_MANIFEST), 400, "TAG_INVALID");
        }

        @Test
        void putByADigestTheBytesDoNotHaveIsRejected() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            String wrong = sha256(randomBytes(4));
            assertError(client.put("/v2/" + repo + "/manifests/" + wrong, image.manifest(), "Content-Type", OCI_MANIFEST),
                    400, "DIGEST_INVALID");
            assertError(client.get("/v2/" + repo + "/manifests/" + wrong), 404, "MANIFEST_UNKNOWN");
        }

        @Test
        void manifestBytesAreKeptExactlyAsPushed() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            // Same content, unusual formatting and key order: a different manifest with its own digest.
            JsonObject parsed = new JsonObject(new String(image.manifest(), StandardCharsets.UTF_8));
            String odd = "{\n  \"layers\" : " + parsed.getJsonArray("layers").encodePrettily()
                    + ",\n\t\"config\":" + parsed.getJsonObject("config").encode()
                    + ", \"mediaType\": \"" + OCI_MANIFEST + "\",   \"schemaVersion\": 2 }\n";
            byte[] bytes = odd.getBytes(StandardCharsets.UTF_8);
            String digest = client.pushManifest(repo, "odd", OCI_MANIFEST, bytes);
            assertEquals(sha256(bytes), digest);
            assertArrayEquals(bytes, client.get("/v2/" + repo + "/manifests/odd").body());
        }

        @Test
        void ociManifestWithoutMediaTypeFieldKeepsItsContentType() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            JsonObject m = new JsonObject(new String(image.manifest(), StandardCharsets.UTF_8));
            m.remove("mediaType");
            byte[] bytes = m.encode().getBytes(StandardCharsets.UTF_8);
            client.pushManifest(repo, "nomt", OCI_MANIFEST, bytes);
            assertEquals(OCI_MANIFEST, header(client.get("/v2/" + repo + "/manifests/nomt"), "Content-Type"));
        }

        @Test
        void sha512ManifestDigests() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            String digest = sha512(image.manifest());
            HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/" + digest, image.manifest(),
                    "Content-Type", OCI_MANIFEST);
            assertEquals(201, r.statusCode());
            assertEquals(digest, header(r, "Docker-Content-Digest"));
            HttpResponse<byte[]> get = client.get("/v2/" + repo + "/manifests/" + digest);
            assertEquals(200, get.statusCode());
            assertEquals(digest, header(get, "Docker-Content-Digest"));
            assertArrayEquals(image.manifest(), get.body());
        }

        @Test
        void dockerManifestAndManifestListWithAcceptNegotiation() {
            String repo = repo();
            Image amd64 = pushImage(client, repo, "amd64", 1, true, "amd64");
            Image arm64 = pushImage(client, repo, "arm64", 1, true, "arm64");
            byte[] list = dev.berth.testing.Fixtures.index(DOCKER_LIST, DOCKER_MANIFEST, List.of(arm64, amd64),
                    List.of("arm64", "amd64"));
            String listDigest = client.pushManifest(repo, "multi", DOCKER_LIST, list);

            HttpResponse<byte[]> asList = client.get("/v2/" + repo + "/manifests/multi",
                    "Accept", DOCKER_LIST + ", " + DOCKER_MANIFEST);
            assertEquals(DOCKER_LIST, header(asList, "Content-Type"));
            assertEquals(listDigest, header(asList, "Docker-Content-Digest"));
            // Several Accept headers count together, as docker sends them.
            HttpResponse<byte[]> twoHeaders = client.get("/v2/" + repo + "/manifests/multi",
                    "Accept", DOCKER_MANIFEST, "Accept", DOCKER_LIST);
            assertEquals(DOCKER_LIST, header(twoHeaders, "Content-Type"));
            // A client that takes only single manifests gets the linux/amd64 entry of a tagged list.
            HttpResponse<byte[]> single = client.get("/v2/" + repo + "/manifests/multi", "Accept", DOCKER_MANIFEST);
            assertEquals(200, single.statusCode());
            assertEquals(amd64.digest(), header(single, "Docker-Content-Digest"));
            assertArrayEquals(amd64.manifest(), single.body());
            // No Accept at all: what was stored.
            assertEquals(DOCKER_LIST, header(client.get("/v2/" + repo + "/manifests/multi"), "Content-Type"));
            // Asked by digest for a type it does not accept: 404.
            assertError(client.get("/v2/" + repo + "/manifests/" + listDigest, "Accept", DOCKER_MANIFEST),
                    404, "MANIFEST_UNKNOWN");
        }

        @Test
        void anOciManifestIsNotServedToAClientThatOnlyAcceptsDockerManifests() {
            String repo = repo();
            pushImage(client, repo, "v1");
            assertError(client.get("/v2/" + repo + "/manifests/v1", "Accept", DOCKER_MANIFEST), 404, "MANIFEST_UNKNOWN");
            assertEquals(200, client.get("/v2/" + repo + "/manifests/v1", "Accept", "*/*").statusCode());
        }

        @Test
        void ociIndexOverPushedManifests() {
            String repo = repo();
            Image amd64 = pushImage(client, repo, "a", 1, false, "amd64");
            Image arm64 = pushImage(client, repo, "b", 1, false, "arm64");
            byte[] index = dev.berth.testing.Fixtures.index(OCI_INDEX, OCI_MANIFEST, List.of(amd64, arm64),
                    List.of("amd64", "arm64"));
            String digest = client.pushManifest(repo, "multi", OCI_INDEX, index);
            HttpResponse<byte[]> get = client.get("/v2/" + repo + "/manifests/multi", "Accept", OCI_INDEX);
            assertEquals(OCI_INDEX, header(get, "Content-Type"));
            assertEquals(digest, header(get, "Docker-Content-Digest"));
            assertArrayEquals(index, get.body());
        }

        @Test
        void anIndexMayOnlyReferenceManifestsOfItsRepository() {
            String repo = repo();
            Image elsewhere = pushImage(client, repo(), "a");
            byte[] index = dev.berth.testing.Fixtures.index(OCI_INDEX, OCI_MANIFEST, List.of(elsewhere), List.of("amd64"));
            JsonObject error = assertError(client.put("/v2/" + repo + "/manifests/x", index, "Content-Type", OCI_INDEX),
                    400, "MANIFEST_BLOB_UNKNOWN");
            assertEquals(elsewhere.digest(), error.getJsonObject("detail").getString("digest"));
        }

        @Test
        void aManifestReferencingUnknownBlobsIsRejectedWithOneErrorEach() {
            String repo = repo();
            String config = client.pushBlob(repo, "{}".getBytes(StandardCharsets.UTF_8));
            String missing1 = sha256("layer-1".getBytes(StandardCharsets.UTF_8));
            String missing2 = sha256("layer-2".getBytes(StandardCharsets.UTF_8));
            byte[] manifest = new JsonObject().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                    .put("config", descriptor(OCI_CONFIG, config, 2))
                    .put("layers", new JsonArray().add(descriptor(OCI_LAYER, missing1, 7)).add(descriptor(OCI_LAYER, missing2, 7)))
                    .encode().getBytes(StandardCharsets.UTF_8);
            HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/v1", manifest, "Content-Type", OCI_MANIFEST);
            assertError(r, 400, "MANIFEST_BLOB_UNKNOWN");
            JsonArray errors = json(r).getJsonArray("errors");
            assertEquals(2, errors.size());
            assertEquals(missing1, errors.getJsonObject(0).getJsonObject("detail").getString("digest"));
            assertEquals(missing2, errors.getJsonObject(1).getJsonObject("detail").getString("digest"));
            assertError(client.get("/v2/" + repo + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        }

        @Test
        void foreignLayersNeedNotBeInTheRegistry() {
            String repo = repo();
            String config = client.pushBlob(repo, "{}".getBytes(StandardCharsets.UTF_8));
            String foreign = sha256("windows base layer".getBytes(StandardCharsets.UTF_8));
            byte[] manifest = new JsonObject().put("schemaVersion", 2).put("mediaType", DOCKER_MANIFEST)
                    .put("config", descriptor("application/vnd.docker.container.image.v1+json", config, 2))
                    .put("layers", new JsonArray().add(descriptor("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                            foreign, 100).put("urls", new JsonArray().add("https://example.invalid/layer"))))
                    .encode().getBytes(StandardCharsets.UTF_8);
            assertEquals(201, client.put("/v2/" + repo + "/manifests/win", manifest, "Content-Type", DOCKER_MANIFEST)
                    .statusCode());
        }

        @Test
        void unknownManifestsAre404() {
            String repo = repo();
            assertError(client.get("/v2/" + repo + "/manifests/nope"), 404, "MANIFEST_UNKNOWN");
            assertEquals(404, client.head("/v2/" + repo + "/manifests/nope").statusCode());
            assertError(client.get("/v2/" + repo + "/manifests/" + sha256(new byte[] {1})), 404, "MANIFEST_UNKNOWN");
        }

        @Test
        void deleteByDigestRemovesTheManifestAndItsTags() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            expect(client.put("/v2/" + repo + "/manifests/v2", image.manifest(), "Content-Type", OCI_MANIFEST), 201);
            Image other = pushImage(client, repo, "keep");
            assertEquals(202, client.delete("/v2/" + repo + "/manifests/" + image.digest()).statusCode());
            assertError(client.get("/v2/" + repo + "/manifests/" + image.digest()), 404, "MANIFEST_UNKNOWN");
            assertError(client.get("/v2/" + repo + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
            assertError(client.get("/v2/" + repo + "/manifests/v2"), 404, "MANIFEST_UNKNOWN");
            assertEquals(new JsonArray(List.of("keep")), json(client.get("/v2/" + repo + "/tags/list")).getJsonArray("tags"));
            assertEquals(200, client.get("/v2/" + repo + "/manifests/" + other.digest()).statusCode());
            assertError(client.delete("/v2/" + repo + "/manifests/" + image.digest()), 404, "MANIFEST_UNKNOWN");
        }

        @Test
        void deleteByTagOnlyUntags() {
            String repo = repo();
            Image image = pushImage(client, repo, "v1");
            assertEquals(202, client.delete("/v2/" + repo + "/manifests/v1").statusCode());
            assertError(client.get("/v2/" + repo + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
            assertEquals(200, client.get("/v2/" + repo + "/manifests/" + image.digest()).statusCode());
            assertError(client.delete("/v2/" + repo + "/manifests/v1"), 404, "MANIFEST_UNKNOWN");
        }

        @Test
        void retaggingMovesTheTag() {
            String repo = repo();
            pushImage(client, repo, "latest");
            Image second = pushImage(client, repo, "latest");
            assertEquals(second.digest(), header(client.head("/v2/" + repo + "/manifests/latest"), "Docker-Content-Digest"));
        }
    }

    @Nested
    class Referrers {
        private String artifact(String repo, String subjectDigest, int subjectSize, String artifactType, String note) {
            byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
            String emptyDigest = client.pushBlob(repo, empty);
            assertEquals("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", emptyDigest);
            byte[] payload = note.getBytes(StandardCharsets.UTF_8);
            String payloadDigest = client.pushBlob(repo, payload);
            JsonObject m = new JsonObject().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
                    .put("artifactType", artifactType)
                    .put("config", descriptor(OCI_EMPTY, emptyDigest, 2))
                    .put("layers", new JsonArray().add(descriptor("text/plain", payloadDigest, payload.length)))
                    .put("annotations", new JsonObject().put("note", note));
            if (subjectDigest != null) {
                m.put("subject", descriptor(OCI_MANIFEST, subjectDigest, subjectSize));
            }
            byte[] bytes = m.encode().getBytes(StandardCharsets.UTF_8);
            HttpResponse<byte[]> r = client.put("/v2/" + repo + "/manifests/" + sha256(bytes), bytes,
                    "Content-Type", OCI_MANIFEST);
            assertEquals(201, r.statusCode(), () -> new String(r.body(), StandardCharsets.UTF_8));
            assertEquals(subjectDigest, header(r, "OCI-Subject"));
            return sha256(bytes);
        }

        @Test
        void referrersListsManifestsWithThatSubjectAndFiltersByArtifactType() {
            String repo = repo();
            Image subject = pushImage(client, repo, "v1");
            String sbom = artifact(repo, subject.digest(), subject.manifest().length, "application/spdx+json", "sbom");
            String sig = artifact(repo, subject.digest(), subject.manifest().length, "application/vnd.dev.sig", "sig");

            HttpResponse<byte[]> all = client.get("/v2/" + repo + "/referrers/" + subject.digest());
            assertEquals(200, all.statusCode());
            assertEquals(OCI_INDEX, header(all, "Content-Type"));
            assertNull(header(all, "OCI-Filters-Applied"));
            JsonObject index = json(all);
            assertEquals(2, index.getInteger("schemaVersion"));
            assertEquals(OCI_INDEX, index.getString("mediaType"));
            JsonArray manifests = index.getJsonArray("manifests");
            assertEquals(2, manifests.size());
            for (int i = 0; i < 2; i++) {
                JsonObject d = manifests.getJsonObject(i);
                assertEquals(OCI_MANIFEST, d.getString("mediaType"));
                String digest = d.getString("digest");
                assertTrue(digest.equals(sbom) || digest.equals(sig));
                assertEquals(client.get("/v2/" + repo + "/manifests/" + digest).body().length, d.getLong("size"));
                assertEquals(digest.equals(sbom) ? "application/spdx+json" : "application/vnd.dev.sig", d.getString("artifactType"));
                assertEquals(digest.equals(sbom) ? "sbom" : "sig", d.getJsonObject("annotations").getString("note"));
            }

            HttpResponse<byte[]> filtered = client.get("/v2/" + repo + "/referrers/" + subject.digest()
                    + "?artifactType=application/spdx%2Bjson");
            assertEquals("artifactType", header(filtered, "OCI-Filters-Applied"));
            JsonArray only = json(filtered).getJsonArray("manifests");
            assertEquals(1, only.size());
            assertEquals(sbom, only.getJsonObject(0).getString("digest"));

            HttpResponse<byte[]> none = client.get("/v2/" + repo + "/referrers/" + subject.digest()
                    + "?artifactType=application/other");
            assertEquals(0, json(none).getJsonArray("manifests").size());

            // Deleting a referrer removes it from the list.
            expect(client.delete("/v2/" + repo + "/manifests/" + sig), 202);
            assertEquals(1, json(client.get("/v2/" + repo + "/referrers/" + subject.digest())).getJsonArray("manifests").size());
        }

        @Test
        void aSubjectThatDoesNotExistIsAccepted() {
            String repo = repo();
            String absent = sha256("future subject".getBytes(StandardCharsets.UTF_8));
            String artifact = artifact(repo, absent, 123, "application/example", "early");
            JsonArray manifests = json(client.get("/v2/" + repo + "/referrers/" + absent)).getJsonArray("manifests");
            assertEquals(1, manifests.size());
            assertEquals(artifact, manifests.getJsonObject(0).getString("digest"));
        }

        @Test
        void unknownSubjectsAndRepositoriesGiveAnEmptyIndexNever404() {
            String unknown = sha256("nobody refers to me".getBytes(StandardCharsets.UTF_8));
            for (String repo : List.of(repo(), "never/pushed/here")) {
                HttpResponse<byte[]> r = client.get("/v2/" + repo + "/referrers/" + unknown);
                assertEquals(200, r.statusCode());
                assertEquals(OCI_INDEX, header(r, "Content-Type"));
                assertEquals(0, json(r).getJsonArray("manifests").size());
            }
            assertError(client.get("/v2/" + repo() + "/referrers/sha256:nope"), 400, "DIGEST_INVALID");
        }

        @Test
        void anArtifactWithoutSubjectHasNoOciSubjectHeader() {
            String repo = repo();
            artifact(repo, null, 0, "application/example", "standalone");
        }
    }

    @Nested
    class Listings {
        @Test
        void tagsArePaginatedWithNLastAndLinkHeaders() {
            String repo = repo();
            Image image = pushImage(client, repo, "e");
            for (String tag : List.of("c", "a", "d", "b")) {
                expect(client.put("/v2/" + repo + "/manifests/" + tag, image.manifest(), "Content-Type", OCI_MANIFEST), 201);
            }
            HttpResponse<byte[]> all = client.get("/v2/" + repo + "/tags/list");
            assertEquals(new JsonObject().put("name", repo).put("tags", new JsonArray(List.of("a", "b", "c", "d", "e"))),
                    json(all));
            assertNull(header(all, "Link"));

            HttpResponse<byte[]> page1 = client.get("/v2/" + repo + "/tags/list?n=2");
            assertEquals(new JsonArray(List.of("a", "b")), json(page1).getJsonArray("tags"));
            String link = header(page1, "Link");
            assertEquals("</v2/" + repo + "/tags/list?n=2&last=b>; rel=\"next\"", link);
            HttpResponse<byte[]> page2 = client.get(link.substring(1, link.indexOf('>')));
            assertEquals(new JsonArray(List.of("c", "d")), json(page2).getJsonArray("tags"));
            String link2 = header(page2, "Link");
            HttpResponse<byte[]> page3 = client.get(link2.substring(1, link2.indexOf('>')));
            assertEquals(new JsonArray(List.of("e")), json(page3).getJsonArray("tags"));
            assertNull(header(page3, "Link"));

            assertEquals(new JsonArray(List.of("d", "e")),
                    json(client.get("/v2/" + repo + "/tags/list?last=c")).getJsonArray("tags"));
            assertEquals(new JsonArray(), json(client.get("/v2/" + repo + "/tags/list?n=0")).getJsonArray("tags"));
            assertEquals(new JsonArray(), json(client.get("/v2/" + repo + "/tags/list?last=z")).getJsonArray("tags"));
        }

        @Test
        void aRepositoryWhoseManifestsWereAllDeletedLeavesTheCatalog() {
            String repo = "catalog" + REPOS.incrementAndGet() + "/gone";
            Image image = pushImage(client, repo, "v1");
            assertTrue(json(client.get("/v2/_catalog?n=100000")).getJsonArray("repositories").contains(repo));
            expect(client.delete("/v2/" + repo + "/manifests/" + image.digest()), 202);
            assertFalse(json(client.get("/v2/_catalog?n=100000")).getJsonArray("repositories").contains(repo));
        }

        @Test
        void tagListErrors() {
            assertError(client.get("/v2/" + repo() + "/tags/list"), 404, "NAME_UNKNOWN");
            String repo = repo();
            pushImage(client, repo, "v1");
            assertError(client.get("/v2/" + repo + "/tags/list?n=-1"), 400, "PAGINATION_NUMBER_INVALID");
            assertError(client.get("/v2/" + repo + "/tags/list?n=many"), 400, "PAGINATION_NUMBER_INVALID");
        }

        @Test
        void aRepositoryWhoseTagsWereAllDeletedListsNoTags() {
            String repo = repo();
            pushImage(client, repo, "v1");
            expect(client.delete("/v2/" + repo + "/manifests/v1"), 202);
            assertEquals(new JsonArray(), json(client.get("/v2/" + repo + "/tags/list")).getJsonArray("tags"));
        }

        @Test
        void catalogIsSortedAndPaginated() {
            String base = "catalog" + REPOS.incrementAndGet();
            List<String> names = List.of(base + "/a", base + "/a-b", base + "/a/b", base + "/b");
            for (String name : List.of(names.get(3), names.get(2), names.get(0), names.get(1))) {
                pushImage(client, name, "v1");
            }
            JsonArray repositories = json(client.get("/v2/_catalog?n=10000")).getJsonArray("repositories");
            List<String> ours = repositories.stream().map(Object::toString).filter(n -> n.startsWith(base + "/")).toList();
            assertEquals(names, ours);
            List<String> sorted = repositories.stream().map(Object::toString).sorted().toList();
            assertEquals(sorted, repositories.stream().map(Object::toString).toList());

            HttpResponse<byte[]> page = client.get("/v2/_catalog?n=2&last=" + base + "/a");
            assertEquals(new JsonArray(List.of(base + "/a-b", base + "/a/b")), json(page).getJsonArray("repositories"));
            String link = header(page, "Link");
            assertTrue(link.startsWith("</v2/_catalog?n=2&last="), link);
            HttpResponse<byte[]> next = client.get(link.substring(1, link.indexOf('>')));
            assertEquals(base + "/b", json(next).getJsonArray("repositories").getString(0));
            assertError(client.get("/v2/_catalog?n=x"), 400, "PAGINATION_NUMBER_INVALID");
        }
    }

    @Nested
    class DeletesDisabled {
        @Test
        void deletesAreUnsupportedWhenTurnedOff(@TempDir Path dir) throws Exception {
            try (TestRegistry readOnly = TestRegistry.start(dir, Map.of("registry.deleteEnabled", "false"))) {
                RegistryClient c = readOnly.client();
                Image image = pushImage(c, "keep/me", "v1");
                assertError(c.delete("/v2/keep/me/manifests/" + image.digest()), 405, "UNSUPPORTED");
                assertError(c.delete("/v2/keep/me/manifests/v1"), 405, "UNSUPPORTED");
                assertError(c.delete("/v2/keep/me/blobs/" + image.configDigest()), 405, "UNSUPPORTED");
                assertEquals(200, c.get("/v2/keep/me/manifests/v1").statusCode());
            }
        }
    }

    @Test
    void everyResponseCarriesTheApiVersionHeader() {
        String repo = repo();
        List<HttpResponse<byte[]>> responses = List.of(
                client.get("/v2/"), client.get("/v2/" + repo + "/tags/list"),
                client.post("/v2/" + repo + "/blobs/uploads/", new byte[0]),
                client.get("/v2/Bad/manifests/x"), client.head("/v2/" + repo + "/blobs/" + sha256(new byte[0])));
        for (HttpResponse<byte[]> r : responses) {
            assertEquals("registry/2.0", header(r, "Docker-Distribution-API-Version"), r.uri().toString());
        }
        assertFalse(responses.isEmpty());
    }
}
