package dev.berth.deploy.api;

import dev.berth.agent.protocol.Messages;
import dev.berth.api.ApiException;
import dev.berth.deploy.ControlPlane;
import dev.berth.deploy.model.ControlPlaneException;
import dev.berth.deploy.model.DeployJson;
import dev.berth.deploy.model.FieldException;
import dev.berth.deploy.model.Node;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's end of the agent protocol: {@code POST /api/agents/register} (join token in,
 * node id and agent token out), {@code GET /api/agents/connect} (the WebSocket session, one per
 * node, authenticated with the agent token), and {@code GET /api/tasks/:id/logs} (container logs
 * streamed from the node's agent through its session). One responder per message type.
 */
public final class AgentGateway {
    private static final Logger LOG = LoggerFactory.getLogger(AgentGateway.class);
    /** Heartbeats both ways every 10 s; an unacknowledged snapshot is sent again after 30 s. */
    static final long HEARTBEAT_MS = 10_000;
    static final long RESEND_MS = 30_000;
    /** How long the agent has to start answering a logs request. */
    static final long LOGS_ANSWER_MS = 30_000;

    private final Vertx vertx;
    private final ControlPlane controlPlane;
    private final AgentSecurity security;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    public AgentGateway(Vertx vertx, ControlPlane controlPlane) {
        this(vertx, controlPlane, null);
    }

    /** @param security client certificates and pull credentials; null for neither */
    public AgentGateway(Vertx vertx, ControlPlane controlPlane, AgentSecurity security) {
        this.vertx = vertx;
        this.controlPlane = controlPlane;
        this.security = security;
        controlPlane.onNodesChanged(this::nodesChanged);
    }

    public void mount(Router router) {
        router.route(HttpMethod.POST, "/api/agents/register")
                .handler(BodyHandler.create(false).setBodyLimit(ControlPlaneRoutes.MAX_BODY_BYTES))
                .handler(this::register);
        router.route(HttpMethod.GET, "/api/agents/connect").handler(this::connect);
        router.route(HttpMethod.GET, "/api/tasks/:id/logs").handler(this::logs);
    }

    /** Nodes with a live session (for tests and operators). */
    public Set<String> connectedNodes() {
        return Set.copyOf(sessions.keySet());
    }

    private void register(RoutingContext ctx) {
        Buffer body = ctx.body().buffer();
        JsonObject request;
        try {
            request = body == null ? new JsonObject() : new JsonObject(body);
        } catch (RuntimeException e) {
            ctx.fail(new FieldException(null, "the request body must be a JSON object"));
            return;
        }
        if (request.getString("joinToken") == null) {
            ctx.fail(new ControlPlaneException(401, "InvalidJoinTokenException", "a join token is required", "joinToken"));
            return;
        }
        // Over TLS a node also gets a client certificate for its session: for the key in its request.
        Object csrValue = request.remove("csr");
        String csr = csrValue instanceof String text ? text : null;
        boolean certify = security != null && security.clientCertificates();
        try {
            if (csrValue != null && csr == null) {
                throw new FieldException("csr", "csr must be a PEM certificate request");
            }
            if (certify) {
                if (csr == null) {
                    throw new FieldException("csr", "this controller speaks TLS: a certificate request (csr, PEM PKCS#10) "
                            + "for the node's client certificate is required");
                }
                security.checkRequest(csr);
            }
        } catch (FieldException e) {
            ctx.fail(e);
            return;
        }
        controlPlane.action("RegisterContainerInstance").call(request.encode()).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            var node = ar.result().get("containerInstance");
            String nodeId = node.get("containerInstanceArn").asText();
            JsonObject answer = new JsonObject()
                    .put("containerInstanceArn", nodeId)
                    .put("cluster", node.get("cluster").asText())
                    .put("agentToken", ar.result().get("agentToken").asText())
                    .put("protocolVersion", Messages.PROTOCOL_VERSION);
            if (certify) {
                try {
                    answer.put("certificate", security.certify(nodeId, csr));
                } catch (RuntimeException e) {
                    // The request was checked before registering; this is the authority failing.
                    LOG.atError().setCause(e).addKeyValue("node", nodeId).log("cannot issue a client certificate");
                    ctx.fail(new ControlPlaneException(500, "ServerException",
                            "the node was registered but its client certificate could not be issued", null));
                    return;
                }
            }
            ctx.response().putHeader("Content-Type", "application/json").end(answer.encode());
        });
    }

    private void connect(RoutingContext ctx) {
        String auth = ctx.request().getHeader("Authorization");
        String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim() : null;
        ctx.request().pause();
        controlPlane.authenticateAgent(token).onComplete(ar -> {
            if (ar.failed()) {
                ctx.request().resume();
                ctx.fail(ar.cause());
                return;
            }
            Node node = ar.result();
            if (security != null && security.clientCertificates() && !certified(ctx, node.id())) {
                ctx.request().resume();
                ctx.fail(new ControlPlaneException(401, "InvalidClientCertificateException",
                        "the agent session needs the node's client certificate from Berth's authority (register again "
                                + "with a join token to get one)", null));
                return;
            }
            ctx.request().toWebSocket().onComplete(ws -> {
                if (ws.failed()) {
                    LOG.atWarn().setCause(ws.cause()).addKeyValue("node", node.id()).log("agent WebSocket upgrade failed");
                    return;
                }
                Session fresh = new Session(node.id(), ws.result(), vertx.getOrCreateContext());
                Session old = sessions.put(node.id(), fresh);
                if (old != null) {
                    old.replaced();
                }
                fresh.start();
            });
        });
    }

    /** Whether the connection's client certificate (verified by the TLS handshake) is the node's. */
    private boolean certified(RoutingContext ctx, String nodeId) {
        try {
            List<java.security.cert.X509Certificate> chain = new java.util.ArrayList<>();
            for (java.security.cert.Certificate c : ctx.request().connection().peerCertificates()) {
                chain.add((java.security.cert.X509Certificate) c);
            }
            return security.certifies(chain, nodeId);
        } catch (javax.net.ssl.SSLPeerUnverifiedException | RuntimeException e) {
            return false;
        }
    }

    private void nodesChanged(Set<String> nodes) {
        for (String n : nodes) {
            Session s = sessions.get(n);
            if (s != null) {
                s.context.runOnContext(v -> s.sendSnapshot(false));
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Logs

    private void logs(RoutingContext ctx) {
        String taskId = ctx.pathParam("id");
        boolean follow = "true".equals(ctx.request().getParam("follow"));
        String container = ctx.request().getParam("container");
        int tail;
        try {
            tail = ctx.request().getParam("tail") == null ? -1 : Integer.parseInt(ctx.request().getParam("tail"));
        } catch (NumberFormatException e) {
            ctx.fail(ApiException.invalid("tail", "tail must be a number"));
            return;
        }
        String cluster = ctx.request().getParam("cluster");
        JsonObject describe = new JsonObject().put("tasks", new io.vertx.core.json.JsonArray().add(taskId));
        if (cluster != null) {
            describe.put("cluster", cluster);
        }
        controlPlane.action("DescribeTasks").call(describe.encode()).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            var tasks = ar.result().get("tasks");
            if (tasks.isEmpty()) {
                ctx.fail(new ControlPlaneException(404, "TaskNotFoundException", "no task " + taskId, "id"));
                return;
            }
            var task = tasks.get(0);
            var nodeField = task.get("containerInstanceArn");
            Session session = nodeField == null ? null : sessions.get(nodeField.asText());
            if (session == null) {
                ctx.fail(new ControlPlaneException(409, "AgentNotConnectedException",
                        "the task's node has no connected agent, so its logs cannot be read", "id"));
                return;
            }
            String name = container != null ? container : task.get("containers").get(0).get("name").asText();
            session.context.runOnContext(v -> session.streamLogs(ctx, taskId, name, follow, tail));
        });
    }

    // ------------------------------------------------------------------------------------------

    /** One agent's WebSocket session; all of its state lives on its context. */
    private final class Session {
        private final String nodeId;
        private final ServerWebSocket ws;
        private final Context context;
        /** Whether a certificate renewal is being signed (one at a time per session). */
        private boolean renewalInFlight;
        private long seq;
        private long acked = -1;
        private String lastSent;
        private boolean helloSeen;
        private boolean closed;
        private long heartbeatTimer = -1;
        private long lastFrameAt = System.nanoTime();
        private long lastSentAt = System.nanoTime();
        /** When the pull credentials last sent were made (0: none were). */
        private long credentialsAt;
        private final Map<String, RoutingContext> logReaders = new ConcurrentHashMap<>();
        /** Log requests the agent has begun to answer. */
        private final Set<String> answered = ConcurrentHashMap.newKeySet();

        Session(String nodeId, ServerWebSocket ws, Context context) {
            this.nodeId = nodeId;
            this.ws = ws;
            this.context = context;
        }

        void start() {
            ws.textMessageHandler(this::received);
            ws.closeHandler(v -> ended());
            ws.exceptionHandler(e -> LOG.atDebug().setCause(e).addKeyValue("node", nodeId).log("agent session error"));
            heartbeatTimer = vertx.setPeriodic(HEARTBEAT_MS, id -> tick());
        }

        void replaced() {
            context.runOnContext(v -> {
                closed = true;
                ws.close((short) 4000, "replaced by a newer session");
            });
        }

        private void ended() {
            closed = true;
            vertx.cancelTimer(heartbeatTimer);
            logReaders.values().forEach(r -> {
                if (!r.response().ended()) {
                    r.response().end();
                }
            });
            if (sessions.remove(nodeId, this) && helloSeen) {
                controlPlane.agentSession(nodeId, false);
                LOG.atInfo().addKeyValue("node", nodeId).log("agent disconnected");
            }
        }

        private void tick() {
            if (closed) {
                return;
            }
            send(new Messages.Heartbeat(java.time.Instant.now()));
            if (System.nanoTime() - lastFrameAt > 3 * HEARTBEAT_MS * 1_000_000L) {
                LOG.atWarn().addKeyValue("node", nodeId).log("agent silent for 3 heartbeats: closing its session");
                ws.close((short) 4002, "no heartbeat");
                return;
            }
            if (helloSeen && acked < seq && System.nanoTime() - lastSentAt > RESEND_MS * 1_000_000L) {
                sendSnapshot(true);
            } else if (helloSeen && credentialsAt != 0 && security != null
                    && System.nanoTime() - credentialsAt > security.pullCredentialTtl().toNanos() / 2) {
                // Half of the pull credential's life is gone: a new snapshot carries a fresh one.
                lastSent = null;
                sendSnapshot(false);
            }
        }

        /** Pull credentials for the images of {@code tasks}; notes when they were made. */
        private Map<String, Messages.RegistryAuth> credentials(List<Messages.TaskSpec> tasks) {
            Map<String, Messages.RegistryAuth> credentials = security == null ? null
                    : security.pullCredentials(nodeId, tasks);
            credentialsAt = credentials == null || credentials.isEmpty() ? 0 : System.nanoTime();
            return credentials == null || credentials.isEmpty() ? null : credentials;
        }

        private void send(Record message) {
            if (!closed) {
                ws.writeTextMessage(Messages.encode(message));
            }
        }

        /** Sends the node's desired state when it changed since the last one (or again, when asked to resend). */
        void sendSnapshot(boolean resend) {
            if (closed || !helloSeen) {
                return;
            }
            long next = seq + 1;
            controlPlane.desiredState(nodeId, next).onComplete(ar -> {
                if (ar.failed() || closed) {
                    return;
                }
                String tasks;
                try {
                    tasks = DeployJson.MAPPER.writeValueAsString(ar.result().tasks());
                } catch (IOException e) {
                    return;
                }
                if (tasks.equals(lastSent) && !(resend && acked < seq)) {
                    return;
                }
                lastSentAt = System.nanoTime();
                Map<String, Messages.RegistryAuth> credentials = credentials(ar.result().tasks());
                if (tasks.equals(lastSent)) {
                    // The same snapshot again, under its number.
                    send(new Messages.DesiredState(seq, ar.result().tasks(), credentials));
                    return;
                }
                seq = Math.max(seq + 1, next);
                lastSent = tasks;
                send(new Messages.DesiredState(seq, ar.result().tasks(), credentials));
            });
        }

        private void received(String text) {
            lastFrameAt = System.nanoTime();
            Messages.Frame frame;
            try {
                frame = Messages.decode(text);
                switch (frame.type()) {
                    case "Hello" -> hello(Messages.read(frame, Messages.Hello.class));
                    case "Ack" -> acked = Math.max(acked, Messages.read(frame, Messages.Ack.class).seq());
                    case "TaskStateChange" -> stateChange(Messages.read(frame, Messages.TaskStateChange.class));
                    case "Heartbeat" -> {
                        if (helloSeen) {
                            controlPlane.agentSession(nodeId, true);
                        }
                    }
                    case "StopCandidates" -> stopCandidates(Messages.read(frame, Messages.StopCandidates.class));
                    case "LogsData" -> logsData(Messages.read(frame, Messages.LogsData.class));
                    case "RenewCertificate" -> renewCertificate(Messages.read(frame, Messages.RenewCertificate.class));
                    default -> LOG.atWarn().addKeyValue("node", nodeId).addKeyValue("type", frame.type())
                            .log("unknown agent message ignored");
                }
            } catch (IOException | RuntimeException e) {
                LOG.atWarn().setCause(e).addKeyValue("node", nodeId).log("unreadable agent message ignored");
            }
        }

        private void hello(Messages.Hello hello) {
            if (hello.protocolVersion() != Messages.PROTOCOL_VERSION) {
                LOG.atWarn().addKeyValue("node", nodeId).addKeyValue("version", hello.protocolVersion())
                        .log("agent speaks another protocol version");
                ws.close((short) 4001, "protocol version " + Messages.PROTOCOL_VERSION + " required");
                return;
            }
            // Numbers continue from what the agent last applied, across controller restarts too.
            seq = Math.max(seq, hello.lastSeq());
            acked = Math.min(acked, seq);
            boolean first = !helloSeen;
            helloSeen = true;
            lastSent = null;
            if (first) {
                // Connected for the control plane only once it speaks our protocol.
                controlPlane.agentSession(nodeId, true);
                LOG.atInfo().addKeyValue("node", nodeId).log("agent connected");
            }
            sendSnapshot(false);
        }

        /**
         * A new client certificate for the node, for the key in the request. The session was opened
         * with the node's current certificate (checked at connect), which is what entitles it.
         */
        private void renewCertificate(Messages.RenewCertificate renew) {
            if (security == null || !security.clientCertificates()) {
                send(new Messages.Certificate(null, "this controller issues no client certificates"));
                return;
            }
            if (renew.csr() == null) {
                send(new Messages.Certificate(null, "csr: a certificate request (PEM PKCS#10) is required"));
                return;
            }
            if (renewalInFlight) {
                send(new Messages.Certificate(null, "a renewal for this node is in progress already"));
                return;
            }
            renewalInFlight = true;
            // certify checks the request (FieldException naming csr) as it reads it.
            vertx.<String>executeBlocking(() -> security.certify(nodeId, renew.csr()), false).onComplete(ar -> {
                renewalInFlight = false;
                if (ar.succeeded()) {
                    LOG.atInfo().addKeyValue("node", nodeId).log("client certificate renewed");
                    send(new Messages.Certificate(ar.result(), null));
                } else if (ar.cause() instanceof FieldException e) {
                    send(new Messages.Certificate(null, e.getMessage()));
                } else {
                    LOG.atError().setCause(ar.cause()).addKeyValue("node", nodeId).log("cannot renew a client certificate");
                    send(new Messages.Certificate(null, "the controller could not issue a certificate"));
                }
            });
        }

        private void stateChange(Messages.TaskStateChange change) {
            if (change.taskArn() == null) {
                LOG.atWarn().addKeyValue("node", nodeId).log("report without a task ignored");
                return;
            }
            controlPlane.agentReport(nodeId, change).onComplete(ar -> {
                if (ar.failed() && !(ar.cause() instanceof FieldException || ar.cause() instanceof ControlPlaneException)) {
                    // Not stored: no ack, the agent sends it again.
                    LOG.atWarn().setCause(ar.cause()).addKeyValue("node", nodeId).log("cannot store an agent report");
                    return;
                }
                if (ar.failed()) {
                    LOG.atWarn().addKeyValue("node", nodeId).addKeyValue("task", change.taskArn())
                            .addKeyValue("why", ar.cause().getMessage()).log("invalid agent report dropped");
                }
                context.runOnContext(v -> send(new Messages.StateAck(change.taskArn(), change.seq())));
            });
        }

        private void stopCandidates(Messages.StopCandidates candidates) {
            // A failure goes unanswered: the agent asks again.
            controlPlane.confirmStops(nodeId, candidates.taskArns()).onSuccess(confirmed ->
                    context.runOnContext(v -> send(new Messages.StopConfirm(candidates.requestId(), confirmed))));
        }

        void streamLogs(RoutingContext ctx, String taskId, String container, boolean follow, int tail) {
            if (closed) {
                ctx.fail(new ControlPlaneException(409, "AgentNotConnectedException",
                        "the task's node has no connected agent, so its logs cannot be read", "id"));
                return;
            }
            String requestId = UUID.randomUUID().toString();
            logReaders.put(requestId, ctx);
            ctx.response().setChunked(true).putHeader("Content-Type", "text/plain; charset=utf-8");
            ctx.response().closeHandler(v -> {
                if (logReaders.remove(requestId) != null) {
                    send(new Messages.LogsCancel(requestId));
                }
            });
            send(new Messages.LogsRequest(requestId, taskId, container, follow, tail));
            // An agent that never answers must not leave the reader hanging.
            vertx.setTimer(LOGS_ANSWER_MS, id -> context.runOnContext(v -> {
                if (logReaders.containsKey(requestId) && !answered.contains(requestId)) {
                    logReaders.remove(requestId);
                    send(new Messages.LogsCancel(requestId));
                    ctx.fail(new ControlPlaneException(504, "LogsUnavailableException",
                            "the node's agent did not answer the logs request in time", "id"));
                }
            }));
        }

        private void logsData(Messages.LogsData data) {
            RoutingContext ctx = data.requestId() == null ? null : logReaders.get(data.requestId());
            if (ctx == null) {
                return;
            }
            answered.add(data.requestId());
            if (data.data() != null && !data.data().isEmpty()) {
                ctx.response().write(data.data());
            }
            if (data.end()) {
                logReaders.remove(data.requestId());
                answered.remove(data.requestId());
                if (data.error() != null && !ctx.response().headWritten()) {
                    ctx.fail(new ControlPlaneException(404, "LogsUnavailableException", data.error(), "container"));
                } else {
                    ctx.response().end();
                }
            }
        }
    }

}
