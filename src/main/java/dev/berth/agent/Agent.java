package dev.berth.agent;

import dev.berth.agent.docker.ContainerConfig;
import dev.berth.agent.docker.DockerEngine;
import dev.berth.agent.protocol.Messages;
import dev.berth.auth.Pem;
import dev.berth.deploy.model.Attribute;
import dev.berth.deploy.model.Requests;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code berth agent}: registers this Docker host with a controller (once; the node id and token are
 * kept in the state directory), keeps one WebSocket session to it, runs what the controller's
 * snapshots say through one {@link TaskRunner} per task, and reports back.
 *
 * <ul>
 *   <li>Snapshots: one with a sequence number at or below the last applied is stale and changes
 *       nothing; a new one is applied (stops before starts), persisted, then acknowledged.</li>
 *   <li>Reports are persisted and sent until acknowledged, across reconnects and restarts.</li>
 *   <li>A restarted agent adopts the containers it runs (Berth labels), without restarting them.</li>
 *   <li>Tasks it runs that a snapshot leaves out are stopped only once the controller confirms
 *       (two steps), so a partition never stops what is still wanted.</li>
 *   <li>Heartbeats both ways every 10 s; a silent controller (30 s) means reconnect, with backoff
 *       from 250 ms to 30 s and jitter.</li>
 * </ul>
 *
 * Everything runs on one Vert.x context.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    static final long STEP_MS = 1_000;
    static final long HEARTBEAT_MS = 10_000;
    static final long RESEND_MS = 30_000;
    static final long MIN_BACKOFF_MS = 250;
    static final long MAX_BACKOFF_MS = 30_000;
    /** The longest wait between looks at the client certificate's remaining life. */
    static final long RENEW_CHECK_MS = 3_600_000;
    /** How long a renewal may go unanswered (an older controller ignores the request) before it is asked again. */
    static final long RENEW_ANSWER_NS = 60_000_000_000L;
    /** Memory left to the host and the Engine, not offered to tasks. */
    static final int RESERVED_MEMORY_MIB = 256;

    /**
     * How to run: the controller, how to join it, where to keep state, which Engine, how to describe
     * this node, and which certificates an https controller is trusted by (null: the JVM's).
     */
    public record Options(String controller, String joinToken, Path stateDir, String dockerSocket, String hostname,
                          List<Attribute> attributes, Integer cpu, Integer memory, ClientTls tls) {
        public Options(String controller, String joinToken, Path stateDir, String dockerSocket, String hostname,
                       List<Attribute> attributes, Integer cpu, Integer memory) {
            this(controller, joinToken, stateDir, dockerSocket, hostname, attributes, cpu, memory, null);
        }
    }

    /**
     * Trust for an https controller: {@code trustedPem}, the certificates (a CA, or the server's own)
     * to trust instead of the JVM's; {@code verifyHost}, whether the certificate must name the host
     * (off only for a pinned certificate reached over loopback).
     */
    public record ClientTls(String trustedPem, boolean verifyHost) {
    }

    private final Vertx vertx;
    private final Context context;
    private final Options options;
    private final DockerEngine docker;
    private final HttpClientAgent http;
    /** Made at the first connect, with the node's client certificate when it has one. */
    private WebSocketClient wsClient;
    /** The client of the session still open when the certificate was renewed: closed when that session ends. */
    private WebSocketClient staleClient;
    /** The key of a renewal asked for over this session and not answered yet. */
    private ClientKey renewing;
    /** When that renewal was asked for (System.nanoTime): one unanswered for a minute is asked again. */
    private long renewingSince;
    private long renewTimer = -1;
    /** Whether the refused sessions of an expired certificate were explained in the log already. */
    private boolean expiredLogged;
    /** The node's client certificate as on disk (null: none, or no TLS); only this agent writes it. */
    private X509Certificate clientCert;
    private final WebSocketClientOptions wsOptions;
    /** The node's client certificate (then the authority's) and its key, over TLS. */
    private final Path certFile;
    private final Path keyFile;
    /** Pull credentials from the latest snapshot, by registry host. */
    private volatile Map<String, Messages.RegistryAuth> registryAuth = Map.of();
    private final Path stateFile;
    private LocalState state;
    private final Map<String, TaskRunner> runners = new LinkedHashMap<>();
    /** Containers found at start-up that no local task claims yet: task id to container name to id. */
    private final Map<String, Map<String, String>> orphans = new HashMap<>();
    private final Map<String, DockerEngine.LogStream> logStreams = new HashMap<>();
    private WebSocket ws;
    private long backoff = MIN_BACKOFF_MS;
    private long lastFrameAt;
    private long requestIds;
    private final List<Long> timers = new ArrayList<>();
    private volatile boolean closed;
    private final Promise<Void> firstSnapshot = Promise.promise();
    private boolean snapshotInSession;
    /** StopCandidates sent and not answered yet: asked again with the report resends. */
    private final Map<Long, List<String>> pendingCandidates = new LinkedHashMap<>();
    /** LogsCancel that arrived before its stream was open. */
    private final Set<String> cancelledLogs = new HashSet<>();
    private volatile String deployment;

    private Agent(Vertx vertx, Context context, Options options) {
        this.vertx = vertx;
        this.context = context;
        this.options = options;
        this.docker = new DockerEngine(vertx, options.dockerSocket());
        ClientTls tls = options.tls();
        HttpClientOptions httpOptions = new HttpClientOptions();
        WebSocketClientOptions wsOptions = new WebSocketClientOptions();
        if (tls != null) {
            PemTrustOptions trust = new PemTrustOptions().addCertValue(Buffer.buffer(tls.trustedPem()));
            httpOptions.setTrustOptions(trust).setVerifyHost(tls.verifyHost());
            wsOptions.setTrustOptions(trust.copy()).setVerifyHost(tls.verifyHost());
        }
        this.http = vertx.createHttpClient(httpOptions);
        this.wsOptions = wsOptions;
        this.stateFile = options.stateDir().resolve("agent.json");
        this.certFile = options.stateDir().resolve("agent.crt");
        this.keyFile = options.stateDir().resolve("agent.key");
    }

    /**
     * Starts an agent; the future completes once it is registered and its first session is being
     * opened. It runs as a worker verticle: one thread at a time, in order, and free to flush its
     * state file without holding up an event loop.
     */
    public static Future<Agent> start(Vertx vertx, Options options) {
        Agent[] agent = new Agent[1];
        return vertx.deployVerticle(() -> new io.vertx.core.VerticleBase() {
            @Override
            public Future<?> start() {
                agent[0] = new Agent(vertx, context, options);
                return agent[0].begin();
            }

            @Override
            public Future<?> stop() {
                agent[0].shutdown();
                return Future.succeededFuture();
            }
        }, new io.vertx.core.DeploymentOptions().setThreadingModel(io.vertx.core.ThreadingModel.WORKER))
                .map(id -> {
                    agent[0].deployment = id;
                    return agent[0];
                })
                .recover(e -> {
                    if (agent[0] != null) {
                        agent[0].shutdown();
                    }
                    return Future.failedFuture(e);
                });
    }

    public String nodeId() {
        return state.nodeId;
    }

    public String cluster() {
        return state.cluster;
    }

    /** Completes when the first snapshot from the controller has been applied. */
    public Future<Void> firstSnapshot() {
        return firstSnapshot.future();
    }

    private Future<Void> begin() {
        try {
            state = LocalState.load(stateFile);
        } catch (IOException e) {
            return Future.failedFuture(new IllegalStateException("cannot read " + stateFile + ": " + e.getMessage(), e));
        }
        try {
            ClientKey.recover(keyFile, certFile);
        } catch (IOException e) {
            return Future.failedFuture(new IllegalStateException("cannot finish renewing the client certificate in "
                    + options.stateDir() + ": " + e.getMessage(), e));
        }
        loadClientCertificate();
        return docker.ping().compose(v -> docker.info()).compose(info -> {
            X509Certificate cert = clientCert;
            boolean expired = expired(cert);
            if (state.agentToken != null && tls() && (!java.nio.file.Files.exists(certFile) || expired)) {
                // Registered before the controller spoke TLS (or the certificate was lost, or expired
                // while the node was cut off): the session needs a valid client certificate, which
                // only a registration hands out then.
                String why = expired ? "client certificate expired on " + cert.getNotAfter().toInstant()
                        : "no client certificate";
                if (options.joinToken() == null || options.joinToken().isBlank()) {
                    return Future.failedFuture(new IllegalStateException("this node has " + why + " for "
                            + options.controller() + ": join again with a join token (berth cluster join-token)"));
                }
                LOG.atInfo().addKeyValue("was", state.nodeId).log(why + " for this node: joining again");
                state.agentToken = null;
                return register(info);
            }
            if (state.agentToken != null) {
                if (!options.controller().equals(state.controller)) {
                    // The same controller under another address: the registration holds.
                    LOG.atInfo().addKeyValue("was", state.controller).addKeyValue("now", options.controller())
                            .log("controller address changed");
                    state.controller = options.controller();
                    return save();
                }
                return Future.succeededFuture();
            }
            return register(info);
        }).compose(v -> adopt()).map(v -> {
            timers.add(vertx.setPeriodic(STEP_MS, id -> stepAll()));
            timers.add(vertx.setPeriodic(HEARTBEAT_MS, id -> heartbeat()));
            timers.add(vertx.setPeriodic(RESEND_MS, id -> resendReports()));
            scheduleRenewal();
            connect();
            LOG.atInfo().addKeyValue("node", state.nodeId).addKeyValue("cluster", state.cluster)
                    .addKeyValue("controller", options.controller()).log("agent started");
            return null;
        });
    }

    // ------------------------------------------------------------------------------------------
    // Registration and adoption

    private Future<Void> register(JsonObject info) {
        if (options.joinToken() == null || options.joinToken().isBlank()) {
            return Future.failedFuture(new IllegalStateException("this node is not registered with " + options.controller()
                    + ": a join token is needed (berth cluster join-token)"));
        }
        int cpu = options.cpu() != null ? options.cpu() : info.getInteger("NCPU", 1) * 1024;
        int memory = options.memory() != null ? options.memory()
                : (int) Math.max(64, info.getLong("MemTotal", 0L) / (1024 * 1024) - RESERVED_MEMORY_MIB);
        JsonArray attributes = new JsonArray();
        Set<String> given = new HashSet<>();
        for (Attribute a : options.attributes()) {
            given.add(a.name());
            attributes.add(new JsonObject().put("name", a.name()).put("value", a.value()));
        }
        addAttribute(attributes, given, "berth.os-type", info.getString("OSType"));
        addAttribute(attributes, given, "berth.cpu-architecture", info.getString("Architecture"));
        addAttribute(attributes, given, "berth.docker-version", info.getString("ServerVersion"));
        JsonObject body = new JsonObject().put("joinToken", options.joinToken()).put("hostname", options.hostname())
                .put("totalResources", new JsonObject().put("cpu", cpu).put("memory", memory)
                        .put("ports", new JsonArray(HostPorts.listening())))
                .put("attributes", attributes).put("agentVersion", version());
        ClientKey key = null;
        if (tls()) {
            // Over TLS the node gets a client certificate for a key that never leaves this host.
            try {
                key = ClientKey.create(options.hostname());
            } catch (IOException e) {
                return Future.failedFuture(e);
            }
            body.put("csr", key.csrPem());
        }
        ClientKey clientKey = key;
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST)
                .setAbsoluteURI(options.controller() + "/api/agents/register").putHeader("Content-Type", "application/json")
                .setTimeout(30_000);
        return http.request(request).compose(req -> req.send(body.toBuffer())).compose(resp -> resp.body().compose(b -> {
            if (resp.statusCode() != 200) {
                String message = b.toString(StandardCharsets.UTF_8);
                try {
                    message = new JsonObject(b).getJsonObject("error").getString("message");
                } catch (RuntimeException e) {
                    // keep the text
                }
                return Future.failedFuture(new IllegalStateException("registration refused by " + options.controller()
                        + " (HTTP " + resp.statusCode() + "): " + message));
            }
            JsonObject answer = new JsonObject(b);
            if (clientKey != null) {
                String certificate = answer.getString("certificate");
                if (certificate == null) {
                    return Future.failedFuture(new IllegalStateException(options.controller()
                            + " gave no client certificate for this node"));
                }
                try {
                    clientKey.save(keyFile, certFile, certificate);
                    loadClientCertificate();
                } catch (IOException e) {
                    return Future.failedFuture(new IllegalStateException("cannot keep the client certificate in "
                            + options.stateDir() + ": " + e.getMessage(), e));
                }
            }
            state.controller = options.controller();
            state.nodeId = answer.getString("containerInstanceArn");
            state.cluster = answer.getString("cluster");
            state.agentToken = answer.getString("agentToken");
            state.lastSeq = 0;
            state.tasks.clear();
            state.outbox.clear();
            return save();
        }));
    }

    private static void addAttribute(JsonArray attributes, Set<String> given, String name, String value) {
        if (value != null && !value.isBlank() && !given.contains(name)) {
            attributes.add(new JsonObject().put("name", name).put("value", value.replaceAll("[^a-zA-Z0-9_.:/@ -]", "_")));
        }
    }

    static String version() {
        String v = Agent.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    /**
     * Finds this node's containers: those of known tasks are adopted as they are (their runners go
     * on watching them); others wait for a snapshot to claim them, or for the controller to confirm
     * they may go.
     */
    private Future<Void> adopt() {
        return docker.list(ContainerConfig.NODE_LABEL + "=" + state.nodeId).map(list -> {
            Map<String, Map<String, String>> found = new HashMap<>();
            for (Object o : list) {
                JsonObject c = (JsonObject) o;
                JsonObject labels = c.getJsonObject("Labels", new JsonObject());
                String task = labels.getString(ContainerConfig.TASK_LABEL);
                String name = labels.getString(ContainerConfig.CONTAINER_LABEL);
                if (task != null && name != null) {
                    found.computeIfAbsent(task, k -> new LinkedHashMap<>()).put(name, c.getString("Id"));
                }
            }
            for (LocalState.LocalTask t : state.tasks.values()) {
                Map<String, String> present = found.remove(t.spec.taskArn());
                Map<String, String> actual = present == null ? Map.of() : present;
                if (LocalState.LocalTask.NEW.equals(t.phase)) {
                    // Interrupted while starting: the start goes on with what exists (creating the rest).
                    t.containers.clear();
                    t.containers.putAll(actual);
                } else if (LocalState.LocalTask.DONE.equals(t.phase) && !actual.isEmpty()) {
                    // Interrupted while cleaning up.
                    t.containers.clear();
                    t.containers.putAll(actual);
                    t.phase = LocalState.LocalTask.CLEANING;
                }
                runners.put(t.spec.taskArn(), runner(t));
            }
            orphans.putAll(found);
            if (!state.tasks.isEmpty()) {
                LOG.atInfo().addKeyValue("tasks", state.tasks.size()).log("adopted the tasks this node was running");
            }
            return null;
        });
    }

    private TaskRunner runner(LocalState.LocalTask t) {
        Map<String, String> labels = Map.of(ContainerConfig.NODE_LABEL, state.nodeId,
                ContainerConfig.CLUSTER_LABEL, state.cluster == null ? "" : state.cluster);
        return new TaskRunner(vertx, docker, t, this::pullAuth, new TaskRunner.Reports() {
            @Override
            public void report(LocalState.LocalTask task, String status, String reason,
                               List<Requests.ContainerStateChange> containers, String health) {
                Agent.this.report(task, status, reason, containers, health);
            }

            @Override
            public void persist() {
                saveQuietly();
            }
        }, labels);
    }

    /** Whether the controller is reached over TLS (and so hands out client certificates). */
    private boolean tls() {
        return options.controller().startsWith("https:");
    }

    /**
     * The X-Registry-Auth for pulling {@code image}: the controller's pull credential for the image's
     * registry host, or null (other registries, or a registry without authentication).
     */
    private JsonObject pullAuth(String image) {
        String host;
        try {
            host = dev.berth.deploy.model.ImageReference.parse(image).registry();
        } catch (RuntimeException e) {
            return null;
        }
        Messages.RegistryAuth auth = host == null ? null : registryAuth.get(host);
        return auth == null ? null : new JsonObject().put("username", auth.username()).put("password", auth.password())
                .put("serveraddress", host);
    }

    // ------------------------------------------------------------------------------------------
    // Session

    private void connect() {
        if (closed) {
            return;
        }
        String url = options.controller().replaceFirst("^http", "ws") + "/api/agents/connect";
        WebSocketConnectOptions connect = new WebSocketConnectOptions().setAbsoluteURI(url)
                .addHeader("Authorization", "Bearer " + state.agentToken).setTimeout(15_000);
        if (wsClient == null) {
            if (tls() && java.nio.file.Files.exists(certFile)) {
                wsOptions.setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions()
                        .setCertPath(certFile.toString()).setKeyPath(keyFile.toString()));
            }
            wsClient = vertx.createWebSocketClient(wsOptions);
        }
        wsClient.connect(connect).onComplete(ar -> {
            if (ar.failed()) {
                LOG.atDebug().setCause(ar.cause()).log("cannot reach the controller");
                if (!expiredLogged && expired(clientCert)) {
                    expiredLogged = true;
                    LOG.atError().addKeyValue("expired", clientCert.getNotAfter().toInstant()).log("this node's client "
                            + "certificate has expired, so the controller refuses its session: restart the agent with a "
                            + "join token (berth agent --join-token, from berth cluster join-token)");
                }
                reconnectLater();
                return;
            }
            WebSocket socket = ar.result();
            ws = socket;
            snapshotInSession = false;
            lastFrameAt = System.nanoTime();
            socket.textMessageHandler(this::received);
            socket.closeHandler(v -> {
                ws = null;
                renewing = null;
                if (staleClient != null) {
                    staleClient.close();
                    staleClient = null;
                }
                // Log streams belong to the session: the reader on the controller's side is gone.
                logStreams.values().forEach(s -> s.cancel().run());
                logStreams.clear();
                Short code = socket.closeStatusCode();
                if (code != null && code == 4001) {
                    LOG.atError().addKeyValue("reason", socket.closeReason())
                            .log("the controller speaks another protocol version; upgrade this agent");
                    backoff = MAX_BACKOFF_MS;
                } else {
                    LOG.atInfo().log("session with the controller ended");
                }
                reconnectLater();
            });
            send(new Messages.Hello(Messages.PROTOCOL_VERSION, version(), state.lastSeq));
            resendReports();
            renewIfDue();
            LOG.atInfo().addKeyValue("node", state.nodeId).log("session with the controller open");
        });
    }

    // ------------------------------------------------------------------------------------------
    // Client certificate renewal

    /** Reads the node's client certificate (after start, registration and renewal, which write it). */
    private void loadClientCertificate() {
        clientCert = null;
        if (!tls() || !java.nio.file.Files.exists(certFile)) {
            return;
        }
        try {
            clientCert = Pem.readCertificates(certFile).get(0);
        } catch (IOException | RuntimeException e) {
            LOG.atWarn().setCause(e).log("cannot read the client certificate to see when it expires");
        }
    }

    private static boolean expired(X509Certificate cert) {
        return cert != null && cert.getNotAfter().getTime() <= System.currentTimeMillis();
    }

    /**
     * Milliseconds until the certificate is due for renewal (0 or less: due): when less than a third
     * of its life is left.
     */
    private static long untilDue(X509Certificate cert, long now) {
        long notBefore = cert.getNotBefore().getTime();
        long notAfter = cert.getNotAfter().getTime();
        return notAfter - (notAfter - notBefore) / 3 - now;
    }

    /**
     * Looks at the certificate again when it falls due; when it is due already (a lifetime short
     * against the authority's back-dating), when half of what is left has gone, so that it is
     * renewed well before it expires without asking at every turn. At most an hour apart.
     */
    private void scheduleRenewal() {
        if (closed) {
            return;
        }
        if (renewTimer >= 0) {
            vertx.cancelTimer(renewTimer);
            renewTimer = -1;
        }
        X509Certificate cert = clientCert;
        if (cert == null) {
            return;
        }
        long now = System.currentTimeMillis();
        long left = cert.getNotAfter().getTime() - now;
        long wait = left <= 0 ? 30_000 : Math.max(untilDue(cert, now), left / 2);
        renewTimer = vertx.setTimer(Math.max(1_000, Math.min(RENEW_CHECK_MS, wait)), id -> {
            renewTimer = -1;
            renewIfDue();
            scheduleRenewal();
        });
    }

    /**
     * Asks for a new client certificate, for a new key, once less than a third of the current one's
     * life is left. Only over an open session (made with the current certificate, which is what
     * entitles the node); a certificate that expired before that needs a join token again.
     */
    private void renewIfDue() {
        if (closed || ws == null) {
            return;
        }
        if (renewing != null && System.nanoTime() - renewingSince < RENEW_ANSWER_NS) {
            return;
        }
        X509Certificate current = clientCert;
        long now = System.currentTimeMillis();
        if (current == null || untilDue(current, now) > 0) {
            return;
        }
        try {
            renewing = ClientKey.create(options.hostname());
        } catch (IOException e) {
            LOG.atWarn().setCause(e).log("cannot make a key to renew the client certificate");
            return;
        }
        LOG.atInfo().addKeyValue("expires", current.getNotAfter().toInstant()).log("renewing the client certificate");
        renewingSince = System.nanoTime();
        send(new Messages.RenewCertificate(renewing.csrPem()));
    }

    /** The controller's answer to a renewal: the new pair goes in place; the next session uses it. */
    private void renewed(Messages.Certificate answer) {
        ClientKey key = renewing;
        if (key == null) {
            LOG.atWarn().log("a certificate nobody asked for ignored");
            return;
        }
        if (answer.certificate() != null && !forKey(answer.certificate(), key)) {
            // The late answer to a request asked again since (its key is gone); this one's comes next.
            LOG.atInfo().log("an answer to an earlier renewal request ignored");
            return;
        }
        renewing = null;
        if (answer.certificate() == null) {
            LOG.atWarn().addKeyValue("why", answer.error()).log("the controller did not renew the client certificate; "
                    + "asking again later");
            return;
        }
        try {
            key.replace(keyFile, certFile, answer.certificate());
        } catch (IOException e) {
            LOG.atError().setCause(e).log("cannot keep the renewed client certificate; asking again later");
            try {
                ClientKey.recover(keyFile, certFile); // a pair that belongs together for the next session
            } catch (IOException again) {
                LOG.atError().setCause(again).log("cannot restore the client key and certificate to a matching pair");
            }
            loadClientCertificate();
            return;
        }
        loadClientCertificate();
        // The open session goes on; the next one is made by a client that reads the new pair.
        if (wsClient != null) {
            if (staleClient != null) {
                staleClient.close();
            }
            staleClient = wsClient;
            wsClient = null;
        }
        LOG.atInfo().log("client certificate renewed");
        scheduleRenewal();
    }

    /** Whether the first certificate of {@code pem} is for {@code key}'s public key. */
    private static boolean forKey(String pem, ClientKey key) {
        try {
            return Pem.certificates(pem, "the controller's renewed certificate").get(0).getPublicKey()
                    .equals(key.pair().getPublic());
        } catch (IOException | RuntimeException e) {
            return true; // unreadable: replace() says so
        }
    }

    private void reconnectLater() {
        if (closed) {
            return;
        }
        // Full jitter between half the backoff and the backoff, which doubles up to its ceiling.
        long delay = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        vertx.setTimer(Math.max(1, delay), id -> connect());
    }

    private void send(Record message) {
        if (ws != null && !ws.isClosed()) {
            ws.writeTextMessage(Messages.encode(message));
        }
    }

    private void heartbeat() {
        if (ws == null) {
            return;
        }
        send(new Messages.Heartbeat(java.time.Instant.now()));
        if (System.nanoTime() - lastFrameAt > 3 * HEARTBEAT_MS * 1_000_000L) {
            LOG.atWarn().log("controller silent for 3 heartbeats: reconnecting");
            ws.close();
        }
    }

    private void received(String text) {
        lastFrameAt = System.nanoTime();
        try {
            Messages.Frame frame = Messages.decode(text);
            switch (frame.type()) {
                case "DesiredState" -> apply(Messages.read(frame, Messages.DesiredState.class));
                case "StateAck" -> acknowledged(Messages.read(frame, Messages.StateAck.class));
                case "StopConfirm" -> stopConfirmed(Messages.read(frame, Messages.StopConfirm.class));
                case "LogsRequest" -> logs(Messages.read(frame, Messages.LogsRequest.class));
                case "LogsCancel" -> {
                    String id = Messages.read(frame, Messages.LogsCancel.class).requestId();
                    DockerEngine.LogStream s = logStreams.remove(id);
                    if (s != null) {
                        s.cancel().run();
                    } else if (id != null) {
                        cancelledLogs.add(id);
                    }
                }
                case "Heartbeat" -> {
                    // lastFrameAt is all a heartbeat is for
                }
                case "Certificate" -> renewed(Messages.read(frame, Messages.Certificate.class));
                default -> LOG.atWarn().addKeyValue("type", frame.type()).log("unknown controller message ignored");
            }
        } catch (IOException | RuntimeException e) {
            LOG.atWarn().setCause(e).log("unreadable controller message ignored");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Desired state

    private void apply(Messages.DesiredState desired) {
        if (desired.registryAuth() != null) {
            registryAuth = Map.copyOf(desired.registryAuth());
        }
        if (desired.tasks() == null) {
            LOG.atWarn().addKeyValue("seq", desired.seq()).log("snapshot without a task list ignored");
            return;
        }
        if (desired.seq() < state.lastSeq) {
            LOG.atInfo().addKeyValue("seq", desired.seq()).addKeyValue("applied", state.lastSeq).log("stale snapshot ignored");
            return;
        }
        if (desired.seq() == state.lastSeq && state.lastSeq > 0) {
            send(new Messages.Ack(desired.seq()));
            sessionSnapshot();
            return;
        }
        // Persist first, on a copy: a snapshot not on disk is neither applied nor acknowledged.
        LocalState next = state.copy();
        applyTo(next, desired, new ArrayList<>());
        try {
            next.save(stateFile);
        } catch (IOException e) {
            LOG.atError().setCause(e).addKeyValue("seq", desired.seq()).log("cannot persist a snapshot; not acknowledged");
            return;
        }
        List<LocalState.LocalTask> neverStarted = new ArrayList<>();
        List<String> candidates = applyTo(state, desired, neverStarted);
        for (LocalState.LocalTask t : state.tasks.values()) {
            if (!runners.containsKey(t.spec.taskArn())) {
                runners.put(t.spec.taskArn(), runner(t));
            }
        }
        neverStarted.forEach(t -> report(t, "STOPPED", null, List.of(), null));
        send(new Messages.Ack(desired.seq()));
        sessionSnapshot();
        if (!candidates.isEmpty()) {
            long id = ++requestIds;
            pendingCandidates.put(id, candidates);
            send(new Messages.StopCandidates(id, candidates));
        }
        stepAll();
    }

    /** The first snapshot of a session: the session works, backoff starts from the bottom again. */
    private void sessionSnapshot() {
        if (!snapshotInSession) {
            snapshotInSession = true;
            backoff = MIN_BACKOFF_MS;
        }
        firstSnapshot.tryComplete();
    }

    /**
     * Applies a snapshot to {@code s} (deterministic, so the copy saved first and the live state
     * end up equal). Answers the tasks to propose for stopping; {@code neverStarted} collects tasks
     * wanted STOPPED that never started here (to report as such).
     */
    private List<String> applyTo(LocalState s, Messages.DesiredState desired, List<LocalState.LocalTask> neverStarted) {
        Set<String> wanted = new HashSet<>();
        for (Messages.TaskSpec spec : desired.tasks()) {
            if (spec == null || spec.taskArn() == null || spec.taskDefinition() == null) {
                continue;
            }
            wanted.add(spec.taskArn());
            LocalState.LocalTask t = s.tasks.get(spec.taskArn());
            if (t == null) {
                t = new LocalState.LocalTask();
                t.spec = spec;
                Map<String, String> found = orphans.get(spec.taskArn());
                if ("STOPPED".equals(spec.desiredStatus()) && found == null) {
                    // Never started here and not wanted: nothing to do but say so.
                    t.phase = LocalState.LocalTask.DONE;
                    neverStarted.add(t);
                } else if (found != null) {
                    t.containers.putAll(found);
                    t.phase = LocalState.LocalTask.RUNNING;
                }
                s.tasks.put(spec.taskArn(), t);
            } else if (!t.wantsStop()) {
                // Desired status only moves forward.
                t.spec = spec;
            }
        }
        if (s == state) {
            wanted.forEach(orphans::remove);
        }
        List<String> candidates = new ArrayList<>();
        for (LocalState.LocalTask t : s.tasks.values()) {
            boolean live = LocalState.LocalTask.RUNNING.equals(t.phase) || LocalState.LocalTask.NEW.equals(t.phase);
            if (live && !t.stopConfirmed && !wanted.contains(t.spec.taskArn())) {
                candidates.add(t.spec.taskArn());
            }
        }
        for (String orphan : orphans.keySet()) {
            if (!wanted.contains(orphan)) {
                candidates.add(orphan);
            }
        }
        s.lastSeq = desired.seq();
        return candidates;
    }

    private void stopConfirmed(Messages.StopConfirm confirm) {
        pendingCandidates.remove(confirm.requestId());
        if (confirm.taskArns() == null) {
            return;
        }
        for (String id : confirm.taskArns()) {
            LocalState.LocalTask t = state.tasks.get(id);
            if (t != null) {
                t.stopConfirmed = true;
            }
            Map<String, String> orphan = orphans.remove(id);
            if (orphan != null) {
                LOG.atInfo().addKeyValue("task", id).log("stopping containers of a task the controller no longer wants");
                Future<Void> stopped = Future.join(new ArrayList<>(orphan.values().stream()
                        .map(cid -> docker.stop(cid, 30).otherwiseEmpty().compose(v -> docker.remove(cid, true))).toList()))
                        .mapEmpty();
                stopped.compose(v -> docker.volumes(ContainerConfig.scratchVolume(id, "")))
                        .compose(names -> Future.join(new ArrayList<>(names.stream().map(docker::removeVolume).toList())))
                        .onFailure(e -> LOG.atWarn().setCause(e).addKeyValue("task", id).log("orphan clean-up incomplete"));
            }
        }
        saveQuietly();
        stepAll();
    }

    /**
     * Every runner takes a step; those stopping first, so that their resources are free for those
     * starting: a task not started yet waits while any stop is still under way.
     */
    private void stepAll() {
        if (closed) {
            return;
        }
        List<TaskRunner> stopping = new ArrayList<>();
        List<TaskRunner> others = new ArrayList<>();
        for (TaskRunner r : runners.values()) {
            boolean stops = r.task().wantsStop() && !LocalState.LocalTask.DONE.equals(r.task().phase);
            (stops ? stopping : others).add(r);
        }
        Future<Void> stops = Future.join(new ArrayList<>(stopping.stream().map(TaskRunner::step).toList())).mapEmpty();
        stops.onComplete(v -> {
            boolean stopsPending = runners.values().stream().anyMatch(r -> r.task().wantsStop()
                    && !LocalState.LocalTask.DONE.equals(r.task().phase) && !LocalState.LocalTask.CLEANING.equals(r.task().phase));
            for (TaskRunner r : others) {
                if (stopsPending && LocalState.LocalTask.NEW.equals(r.task().phase)) {
                    continue;
                }
                r.step();
            }
        });
    }


    // ------------------------------------------------------------------------------------------
    // Reports

    private void report(LocalState.LocalTask t, String status, String reason, List<Requests.ContainerStateChange> containers,
                        String health) {
        t.reportSeq++;
        t.reportedStatus = status;
        if (health != null) {
            t.reportedHealth = health;
        }
        Messages.TaskStateChange change = new Messages.TaskStateChange(t.spec.taskArn(), t.reportSeq, status, reason,
                containers, health);
        state.outbox.add(change);
        saveQuietly();
        send(change);
    }

    private void acknowledged(Messages.StateAck ack) {
        boolean removed = state.outbox.removeIf(c -> c.taskArn().equals(ack.taskArn()) && c.seq() <= ack.seq());
        LocalState.LocalTask t = state.tasks.get(ack.taskArn());
        if (t != null && LocalState.LocalTask.DONE.equals(t.phase)
                && state.outbox.stream().noneMatch(c -> c.taskArn().equals(ack.taskArn()))) {
            state.tasks.remove(ack.taskArn());
            runners.remove(ack.taskArn());
            removed = true;
        }
        if (removed) {
            saveQuietly();
        }
    }

    private void resendReports() {
        for (Messages.TaskStateChange c : List.copyOf(state.outbox)) {
            send(c);
        }
        pendingCandidates.forEach((id, tasks) -> send(new Messages.StopCandidates(id, tasks)));
    }

    // ------------------------------------------------------------------------------------------
    // Logs

    private void logs(Messages.LogsRequest request) {
        LocalState.LocalTask t = state.tasks.get(request.taskArn());
        String id = t == null ? null : t.containers.get(request.container());
        if (id == null) {
            send(new Messages.LogsData(request.requestId(), null, true, "no running container " + request.container()
                    + " of task " + request.taskArn() + " on this node"));
            return;
        }
        docker.logs(id, request.follow(), request.tail(), (Buffer b) -> context.runOnContext(v ->
                send(new Messages.LogsData(request.requestId(), b.toString(StandardCharsets.UTF_8), false, null))))
                .onComplete(ar -> {
                    if (ar.failed()) {
                        send(new Messages.LogsData(request.requestId(), null, true, ar.cause().getMessage()));
                        return;
                    }
                    if (cancelledLogs.remove(request.requestId()) || ws == null) {
                        ar.result().cancel().run();
                        return;
                    }
                    logStreams.put(request.requestId(), ar.result());
                    // The stream is open: tells the controller the request is being answered.
                    send(new Messages.LogsData(request.requestId(), "", false, null));
                    ar.result().ended().onComplete(done -> context.runOnContext(v -> {
                        logStreams.remove(request.requestId());
                        send(new Messages.LogsData(request.requestId(), null, true, null));
                    }));
                });
    }

    // ------------------------------------------------------------------------------------------

    private Future<Void> save() {
        return saveQuietly() ? Future.succeededFuture()
                : Future.failedFuture(new IllegalStateException("cannot write " + stateFile));
    }

    /**
     * Persists the state. Small and local, so it is written in place on the context (a few
     * milliseconds with the flush); a failure is logged and reported to the caller.
     */
    private boolean saveQuietly() {
        try {
            state.save(stateFile);
            return true;
        } catch (IOException e) {
            LOG.atError().setCause(e).addKeyValue("file", stateFile).log("cannot persist the agent state");
            return false;
        }
    }

    /** Stops the agent (its containers keep running; a restarted agent adopts them). */
    public Future<Void> stop() {
        closed = true;
        String d = deployment;
        deployment = null;
        return d == null ? Future.succeededFuture() : vertx.undeploy(d);
    }

    @Override
    public void close() {
        stop();
    }

    /** Releases everything, on the agent's context (the verticle's stop). */
    private void shutdown() {
        closed = true;
        timers.forEach(vertx::cancelTimer);
        if (renewTimer >= 0) {
            vertx.cancelTimer(renewTimer);
        }
        logStreams.values().forEach(s -> s.cancel().run());
        if (ws != null) {
            ws.close();
        }
        docker.close();
        http.close();
        if (wsClient != null) {
            wsClient.close();
        }
        if (staleClient != null) {
            staleClient.close();
        }
    }
}
