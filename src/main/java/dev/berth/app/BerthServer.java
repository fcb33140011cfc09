package dev.berth.app;

import dev.berth.config.BerthConfig;
import dev.berth.config.BerthConfig.AuthConfig;
import dev.berth.config.ListenAddress;
import dev.berth.api.ApiRoutes;
import dev.berth.db.Database;
import dev.berth.db.Migration;
import dev.berth.agent.Agent;
import dev.berth.agent.docker.DockerEngine;
import dev.berth.api.ApiException;
import dev.berth.auth.AuditHandler;
import dev.berth.auth.AuditLog;
import dev.berth.auth.AccessControl;
import dev.berth.auth.ApiAuthHandler;
import dev.berth.auth.Authenticator;
import dev.berth.auth.CiTokens;
import dev.berth.auth.ClientLimits;
import dev.berth.auth.RegistryAuthHandler;
import dev.berth.auth.TokenEndpoint;
import dev.berth.auth.TokenRoutes;
import dev.berth.auth.TokenService;
import dev.berth.auth.Users;
import dev.berth.registry.api.ErrorCode;
import dev.berth.registry.api.RegistryException;
import dev.berth.auth.LocalCa;
import dev.berth.auth.Pem;
import dev.berth.auth.ServerTls;
import dev.berth.mirror.Mirror;
import dev.berth.mirror.MirrorCache;
import dev.berth.mirror.MirrorSchema;
import dev.berth.mirror.MirrorStats;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.berth.deploy.ControlPlane;
import dev.berth.deploy.api.AgentGateway;
import dev.berth.deploy.api.ControlPlaneRoutes;
import dev.berth.deploy.state.ControlPlaneSchema;
import dev.berth.deploy.trigger.Push;
import dev.berth.notify.Event;
import dev.berth.notify.EventFilter;
import dev.berth.notify.NotificationService;
import dev.berth.notify.NotifySchema;
import dev.berth.registry.api.RegistryRoutes;
import dev.berth.registry.api.RequestLogHandler;
import dev.berth.registry.store.RegistryCaches;
import dev.berth.registry.store.RegistryStore;
import dev.berth.registry.store.WorkerPool;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.ValidatingStorageDriver;
import dev.berth.storage.filesystem.FilesystemDriver;
import dev.berth.storage.inmemory.InMemoryDriver;
import dev.berth.storage.s3.S3Driver;
import dev.berth.storage.s3.S3Options;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of {@code berth serve}: builds the storage driver, the registry store and
 * the HTTP servers from a {@link BerthConfig}, schedules housekeeping, and stops it all gracefully.
 */
public final class BerthServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BerthServer.class);
    private static final int STORAGE_WORKERS = 16;

    private final BerthConfig config;
    private final Vertx vertx;
    private final StorageDriver driver;
    private final RegistryStore store;
    private final Database database;
    private final NotificationService notifications;
    private volatile ControlPlane controlPlane;
    private volatile AgentGateway agentGateway;
    private volatile Agent embeddedAgent;
    private final int port;
    private final String host;
    private volatile boolean stopped;
    private volatile String httpDeployment;
    private volatile Mirror mirror;
    private volatile ServerTls tls;
    private volatile AuditLog auditLog = AuditLog.disabled();
    private volatile Security security;
    /** Meters exported on {@code /metrics} in the Prometheus text format. */
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    private BerthServer(BerthConfig config, Vertx vertx, StorageDriver driver, RegistryStore store, Database database,
                        NotificationService notifications, String host, int port) {
        this.config = config;
        this.vertx = vertx;
        this.driver = driver;
        this.store = store;
        this.database = database;
        this.notifications = notifications;
        this.host = host;
        this.port = port;
    }

    /** Starts everything and returns once the server listens. */
    public static BerthServer start(BerthConfig config) throws IOException {
        return start(config, notifications -> Future.succeededFuture());
    }

    /**
     * Like {@link #start(BerthConfig)}, calling {@code beforeServing} (and waiting for its future)
     * after notifications are ready and before the first request is accepted: where in-process
     * subscribers attach to the event feed so that they miss nothing.
     */
    public static BerthServer start(BerthConfig config, Function<NotificationService, Future<?>> beforeServing)
            throws IOException {
        int loops = Math.max(2, Runtime.getRuntime().availableProcessors());
        Vertx vertx = Vertx.vertx(new VertxOptions()
                .setEventLoopPoolSize(loops)
                .setPreferNativeTransport(true)
                .setFileSystemOptions(new FileSystemOptions()
                        .setClassPathResolvingEnabled(false)
                        .setFileCachingEnabled(false)));
        StorageDriver driver;
        try {
            driver = new ValidatingStorageDriver(createDriver(config));
        } catch (IOException | RuntimeException e) {
            vertx.close();
            throw e;
        }
        // S3 calls wait on the network far longer than disk calls: as many workers as connections.
        int workers = config.storage().driver().equals("s3")
                ? Math.max(STORAGE_WORKERS, config.storage().s3().maxConcurrency()) : STORAGE_WORKERS;
        WorkerPool pool = new WorkerPool(vertx, "berth-storage", workers);
        // Other replicas may change tags and links on shared storage: those entries expire.
        Duration mutableTtl = config.storage().driver().equals("s3") ? config.storage().s3().metadataTtl() : null;
        RegistryCaches caches = new RegistryCaches(config.registry().cache().entries(),
                config.registry().cache().manifestBytes().bytes(), mutableTtl);
        RegistryStore store = RegistryStore.create(driver, pool, caches, mutableTtl != null);

        ListenAddress listen = ListenAddress.parse(config.http().listen());
        // Every instance must bind the same port; with port 0 pick one first.
        int port = listen.port() == 0 ? freePort(listen.host()) : listen.port();
        ServerTls tls;
        try {
            tls = ServerTls.load(config.tls(), Path.of(config.storage().root()), listen.host(), Clock.systemUTC());
        } catch (IOException | RuntimeException e) {
            driver.close();
            vertx.close();
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }

        Database database;
        try {
            List<Migration> migrations = new ArrayList<>(NotifySchema.MIGRATIONS);
            migrations.addAll(ControlPlaneSchema.MIGRATIONS);
            migrations.addAll(MirrorSchema.MIGRATIONS);
            migrations.addAll(CiTokens.MIGRATIONS);
            String location = databaseLocation(config);
            if (!location.equals(":memory:")) {
                // With blobs elsewhere (S3), nothing else has made the data directory yet.
                Path parent = Path.of(location).toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
            }
            database = Database.open(vertx, location, config.storage().filesystem().fsync(), migrations);
        } catch (SQLException | IOException e) {
            driver.close();
            vertx.close();
            throw new IOException("cannot open the state database " + databaseLocation(config) + ": " + e.getMessage(), e);
        }
        NotificationService notifications = new NotificationService(vertx, database, config.notifications(),
                sourceAddr(listen.host(), port));
        RegistryImageResolver resolver = new RegistryImageResolver(store, port,
                java.util.Set.copyOf(config.deploy().registryHosts()));
        ControlPlane controlPlane;
        try {
            controlPlane = ControlPlane.start(vertx, database, Clock.systemUTC(), new SecureRandom(), resolver)
                    .await(30, TimeUnit.SECONDS);
            controlPlane.lostAfter(config.deploy().lostAfter());
        } catch (Exception e) {
            database.close();
            driver.close();
            vertx.close();
            throw new IOException("cannot load the control-plane state: " + e.getMessage(), e);
        }
        Security security;
        try {
            security = Security.create(vertx, config, database);
        } catch (Exception e) {
            database.close();
            driver.close();
            vertx.close();
            throw new IOException("cannot set up authentication: " + e.getMessage(), e);
        }
        HttpServerOptions options = new HttpServerOptions()
                .setHost(listen.host())
                .setPort(port)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, config.http().idleTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setMaxInitialLineLength(16 * 1024)
                .setMaxHeaderSize((int) config.limits().maxHeaderSize().bytes())
                // The same bound for HTTP/2, should it be spoken (h2c upgrades, on only without limits.headerTimeout).
                .setInitialSettings(new io.vertx.core.http.Http2Settings()
                        .setMaxHeaderListSize(config.limits().maxHeaderSize().bytes()))
                // Body chunks of up to 64 KiB instead of Netty's 8 KiB: fewer buffers per uploaded byte.
                .setMaxChunkSize(64 * 1024)
                // "100 Continue" is sent by the handlers when they want the body (see RequestBody).
                .setHandle100ContinueAutomatically(false)
                .setCompressionSupported(false)
                // No HTTP/2 upgrade of plain connections (no registry client asks for one): a plain
                // connection is then known as it is accepted, so the header timeout can watch it.
                .setHttp2ClearTextEnabled(config.limits().headerTimeout().isZero())
                .setTcpNoDelay(true);
        LocalCa agentCa = null;
        if (tls != null) {
            tls.apply(options);
            // Agents get client certificates from Berth's own authority (the tls.auto one, or one made
            // for agents alone), and present them on their session: the server asks every client for
            // one, and trusts only that authority's.
            try {
                agentCa = LocalCa.loadOrCreate(Path.of(config.storage().root()).resolve("pki"), Clock.systemUTC());
            } catch (IOException e) {
                database.close();
                driver.close();
                vertx.close();
                throw new IOException("cannot set up the authority for agent certificates: " + e.getMessage(), e);
            }
            options.setClientAuth(io.vertx.core.http.ClientAuth.REQUEST).setTrustOptions(new io.vertx.core.net.PemTrustOptions()
                    .addCertValue(io.vertx.core.buffer.Buffer.buffer(Pem.encode(agentCa.certificate()))));
        }
        BerthServer server = new BerthServer(config, vertx, driver, store, database, notifications, listen.host(), port);
        server.tls = tls;
        server.security = security;
        Path auditFile = auditLocation(config);
        server.auditLog = auditFile == null ? AuditLog.disabled()
                : AuditLog.open(auditFile, config.audit().maxFileSize().bytes(), config.audit().maxFiles());
        server.controlPlane = controlPlane;
        AgentGateway gateway = new AgentGateway(vertx, controlPlane, new ServerAgentSecurity(agentCa,
                security.authenticator().tokens(), resolver, config.auth().pullCredentialTtl(),
                config.tls().agentCertificateTtl()));
        server.agentGateway = gateway;
        notifications.start();
        try {
            // The deployer follows tagged manifest pushes through the durable feed: a push it has not
            // acted on is handed over again after a restart. Only pushes to repositories some service
            // follows are recorded for it, so other pushes do not pay for an outbox commit.
            EventFilter pushedByTag = EventFilter.manifestPushedByTag();
            notifications.feed().subscribe("deployer", (Event event) -> pushedByTag.matches(event)
                    && controlPlane.follows(event.target().repository()), event ->
                    controlPlane.push(Push.local(event.target().repository(), event.target().tag(), event.target().digest()))
                            .mapEmpty()).await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            server.close();
            throw new IOException("cannot subscribe the deployer to registry events: " + e.getMessage(), e);
        }
        try {
            beforeServing.apply(notifications).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            server.close();
            throw new IOException("start-up of event subscribers failed: " + e.getMessage(), e);
        }
        // The pull-through mirror, when upstreams are configured.
        Mirror mirror;
        try {
            mirror = config.mirror().upstreams().isEmpty() ? null : mirror(vertx, config, database, store, server.metrics);
        } catch (Exception e) {
            server.close();
            throw new IOException("cannot load the mirror's cache accounting: " + e.getMessage(), e);
        }
        server.mirror = mirror;
        AuditHandler audit = new AuditHandler(server.auditLog);
        // Shared by every event loop's routes: a client's connections land on different loops.
        ClientLimits limits = !ClientLimits.enabled(config.limits()) ? null
                : new ClientLimits(config.limits(), (path, message) -> path.startsWith("/v2/") || path.startsWith("/auth/")
                        ? new RegistryException(ErrorCode.TOO_MANY_REQUESTS, message, java.util.Map.of())
                        : new ApiException(429, "ThrottlingException", message, null));
        try {
            server.httpDeployment = vertx.deployVerticle(() -> new RegistryVerticle(options,
                            v -> routes(v, config, driver, store, notifications, controlPlane, gateway, mirror,
                                    server.metrics, limits, audit, security, server.auditLog),
                            config.http().shutdownTimeout(), config.limits().headerTimeout()),
                    new DeploymentOptions().setInstances(loops).setThreadingModel(ThreadingModel.EVENT_LOOP))
                    .await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            server.close();
            throw new IOException("cannot listen on " + listen.host() + ":" + port + ": " + e.getMessage(), e);
        }
        if (mirror != null) {
            mirror.cache().start();
        }
        server.scheduleUploadPurge();
        server.scheduleUsersReload();
        server.scheduleControlPlaneTicks();
        server.startEmbeddedAgent(listen.host());
        LOG.atInfo().addKeyValue("listen", listen.host() + ":" + port)
                .addKeyValue("scheme", tls == null ? "http" : "https")
                .addKeyValue("storage", config.storage().driver() + ":" + config.storage().root())
                .log("berth is serving");
        if (tls != null && tls.caFile() != null) {
            LOG.atInfo().addKeyValue("ca", tls.caFile().toAbsolutePath().toString())
                    .log("HTTPS with Berth's own certificate authority. Docker daemons trust it once it is copied to "
                            + "/etc/docker/certs.d/<host>:" + port + "/ca.crt; other clients take it with --cacert (curl), "
                            + "--cert-dir (skopeo) or --ca-file (berth agent and the berth CLI)");
        }
        return server;
    }

    private static Mirror mirror(Vertx vertx, BerthConfig config, Database database, RegistryStore store,
                                 MeterRegistry metrics) throws Exception {
        List<String> names = config.mirror().upstreams().stream().map(BerthConfig.UpstreamConfig::name).toList();
        MirrorStats stats = new MirrorStats(metrics, names);
        MirrorCache cache = new MirrorCache(vertx, database, store, config.mirror().cache(), Clock.systemUTC(),
                names, stats);
        MirrorStats.gauges(metrics, names, cache::size, cache::items);
        return new Mirror(vertx, config.mirror().upstreams(), store, stats, cache, Clock.systemUTC());
    }

    /** Every HTTP route: the registry under /v2/, the operator API under /api/, metrics on /metrics. */
    private static Router routes(Vertx vertx, BerthConfig config, StorageDriver driver, RegistryStore store, NotificationService notifications,
                                 ControlPlane controlPlane, AgentGateway gateway, Mirror mirror,
                                 PrometheusMeterRegistry metrics, ClientLimits limits, AuditHandler audit,
                                 Security security, AuditLog auditLog) {
        Router router = Router.router(vertx);
        if (config.log().requests()) {
            router.route().handler(new RequestLogHandler());
        }
        router.route("/v2/*").handler(audit);
        router.route("/api/*").handler(audit);
        if (limits != null) {
            router.route("/v2/*").handler(limits);
            router.route("/api/*").handler(limits);
            router.route("/auth/*").handler(limits);
        }
        AuthConfig auth = config.auth();
        if (auth.enabled()) {
            router.route("/v2/*").handler(new RegistryAuthHandler(security.authenticator(), security.access(),
                    auth.mode().equals("token"), auth.service(), auth.realm(), auditLog));
            ApiAuthHandler api = new ApiAuthHandler(security.authenticator(), security.access(), auth.service(), auditLog);
            router.route("/api/*").handler(api);
            router.route("/metrics").handler(api);
            if (auth.mode().equals("token")) {
                new TokenEndpoint(security.authenticator(), security.access(), auth, auditLog).mount(router);
                router.route("/auth/*").failureHandler(RegistryRoutes.unmatched());
            }
        }
        new TokenRoutes(security.ciTokens(), security.access(), auth.enabled(), Clock.systemUTC()).mount(router);
        RegistryRoutes.mount(router, store, config.registry(), notifications, mirror);
        ApiRoutes.mount(router, notifications, driver, mirror, metrics);
        ControlPlaneRoutes.mount(router, controlPlane, config.deploy().hookSecret());
        gateway.mount(router);
        Handler<RoutingContext> registryUnmatched = RegistryRoutes.unmatched();
        Handler<RoutingContext> apiUnmatched = ApiRoutes.unmatched();
        Handler<RoutingContext> unmatched = ctx -> (ctx.request().path().startsWith("/api/")
                ? apiUnmatched : registryUnmatched).handle(ctx);
        router.errorHandler(404, unmatched);
        router.errorHandler(405, unmatched);
        return router;
    }

    /**
     * Where the audit log goes: {@code audit.file} under {@code storage.root}; none when it is empty,
     * or when it is relative and the in-memory driver keeps nothing on disk.
     */
    static Path auditLocation(BerthConfig config) {
        String file = config.audit().file();
        if (file.isEmpty() || ("inmemory".equals(config.storage().driver()) && !Path.of(file).isAbsolute())) {
            return null;
        }
        return Path.of(config.storage().root()).resolve(file);
    }

    /** {@code state.database}, else {@code <storage.root>/state.db}, or memory with the in-memory driver. */
    static String databaseLocation(BerthConfig config) {
        if (!config.state().database().isEmpty()) {
            return config.state().database();
        }
        if ("inmemory".equals(config.storage().driver())) {
            return ":memory:";
        }
        return Path.of(config.storage().root(), "state.db").toString();
    }

    /** How events name this instance: the listen address, or this host's name when listening on all. */
    private static String sourceAddr(String host, int port) {
        if (!host.equals("0.0.0.0") && !host.equals("::")) {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
        try {
            return InetAddress.getLocalHost().getHostName() + ":" + port;
        } catch (IOException e) {
            return "localhost:" + port;
        }
    }

    private static StorageDriver createDriver(BerthConfig config) throws IOException {
        return switch (config.storage().driver()) {
            case "filesystem" -> new FilesystemDriver(Path.of(config.storage().root()), config.storage().filesystem().fsync());
            case "inmemory" -> new InMemoryDriver();
            case "s3" -> {
                BerthConfig.S3Config s3 = config.storage().s3();
                yield S3Driver.create(new S3Options(s3.bucket(), s3.region(),
                        s3.endpoint().isEmpty() ? null : URI.create(s3.endpoint()), s3.pathStyle(), s3.prefix(),
                        s3.accessKey(), s3.secretKey(), (int) s3.partSize().bytes(), s3.maxConcurrency(), s3.redirect(),
                        s3.presignTtl()));
            }
            default -> throw new IllegalArgumentException("unknown storage driver " + config.storage().driver());
        };
    }

    private static int freePort(String host) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(host, 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }

    /**
     * The agent inside {@code berth serve}, when configured and a Docker Engine answers: it joins the
     * default cluster through this server's own API (a join token made here), and keeps its state
     * under {@code <storage.root>/agent}. Without an Engine, serving goes on without it.
     */
    private void startEmbeddedAgent(String listenHost) {
        BerthConfig.AgentConfig ac = config.agent();
        if (!ac.embedded() || "inmemory".equals(config.storage().driver())) {
            return;
        }
        if (!DockerEngine.socketPresent(ac.dockerSocket())) {
            LOG.atInfo().addKeyValue("socket", ac.dockerSocket()).log("no Docker Engine socket: no embedded agent");
            return;
        }
        String host = listenHost.equals("0.0.0.0") || listenHost.equals("::") ? "127.0.0.1"
                : listenHost.contains(":") ? "[" + listenHost + "]" : listenHost;
        String hostname;
        try {
            hostname = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            hostname = "localhost";
        }
        List<dev.berth.deploy.model.Attribute> attributes = new ArrayList<>();
        ac.attributes().forEach((k, v) -> attributes.add(new dev.berth.deploy.model.Attribute(k, v)));
        attributes.add(new dev.berth.deploy.model.Attribute("berth.embedded", "true"));
        try {
            String token = controlPlane.action("CreateJoinToken").call("{\"expiresInSeconds\":600}")
                    .await(30, TimeUnit.SECONDS).get("joinToken").asText();
            // Over HTTPS the embedded agent trusts exactly this server's certificate, reached on its own
            // listen address (which the certificate need not name).
            Agent.ClientTls trust = tls == null ? null : new Agent.ClientTls(Pem.encode(tls.certificate()), false);
            embeddedAgent = Agent.start(vertx, new Agent.Options((tls == null ? "http://" : "https://") + host + ":" + port,
                    token, Path.of(config.storage().root(), "agent"), ac.dockerSocket(), hostname, attributes, null, null,
                    trust))
                    .await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.atWarn().setCause(e).addKeyValue("socket", ac.dockerSocket())
                    .log("the Docker Engine does not answer: no embedded agent");
        }
    }

    /** The embedded agent, or null. */
    public Agent embeddedAgent() {
        return embeddedAgent;
    }

    /** The storage driver (with its request counts). */
    public StorageDriver storageDriver() {
        return driver;
    }

    public AgentGateway agentGateway() {
        return agentGateway;
    }

    /** The control plane's periodic step: node health, due triggers, reconciliation. */
    private void scheduleControlPlaneTicks() {
        vertx.setPeriodic(1000, id -> {
            if (!stopped) {
                controlPlane.tick().onFailure(e -> LOG.atWarn().setCause(e).log("control-plane step failed"));
            }
        });
    }

    /** Users and groups are read again when their files change (berth user, or an edited file). */
    private void scheduleUsersReload() {
        if (!config.auth().enabled()) {
            return;
        }
        Users users = security.authenticator().users();
        vertx.setPeriodic(2000, id -> {
            if (stopped) {
                return;
            }
            vertx.executeBlocking(users::reloadIfChanged, false).onSuccess(changed -> {
                if (changed) {
                    LOG.atInfo().addKeyValue("users", users.names().size()).log("users and groups reloaded");
                }
            }).onFailure(e -> LOG.atWarn().addKeyValue("error", e.getMessage())
                    .log("users or groups file unreadable; keeping the previous ones"));
        });
    }

    private void scheduleUploadPurge() {
        Duration age = config.storage().uploads().purgeAfter();
        long interval = config.storage().uploads().purgeInterval().toMillis();
        vertx.setPeriodic(Math.min(interval, 60_000), interval, id -> {
            if (stopped) {
                return;
            }
            store.uploads().purge(Instant.now().minus(age)).onSuccess(n -> {
                if (n > 0) {
                    LOG.atInfo().addKeyValue("removed", n).log("purged stale uploads");
                }
            }).onFailure(e -> LOG.atWarn().setCause(e).log("upload purge failed"));
        });
    }

    public int port() {
        return port;
    }

    public String host() {
        return host;
    }

    /** The registry store, for tests and for later subsystems wired here. */
    public RegistryStore store() {
        return store;
    }

    public Vertx vertx() {
        return vertx;
    }

    /** Events and their delivery; the deployer subscribes to its feed. */
    public NotificationService notifications() {
        return notifications;
    }

    /** The deployer's control plane. */
    public ControlPlane controlPlane() {
        return controlPlane;
    }

    /** Stops accepting requests, lets in-flight ones finish (up to the shutdown timeout), then releases everything. */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        Duration grace = config.http().shutdownTimeout().plusSeconds(5);
        try {
            // First the HTTP servers, gracefully: in-flight requests still need the storage workers,
            // which vertx.close() would shut down at the same time.
            if (httpDeployment != null) {
                vertx.undeploy(httpDeployment).await(grace.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            LOG.atWarn().setCause(e).log("HTTP servers did not stop within the shutdown timeout");
        }
        if (embeddedAgent != null) {
            try {
                embeddedAgent.stop().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.atWarn().setCause(e).log("the embedded agent did not stop cleanly");
            }
        }
        if (mirror != null) {
            mirror.close();
        }
        notifications.close();
        try {
            vertx.close().await(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.atWarn().setCause(e).log("shutdown did not finish cleanly");
        }
        database.close();
        auditLog.close();
        try {
            driver.close();
        } catch (IOException e) {
            LOG.atWarn().setCause(e).log("closing storage failed");
        }
        LOG.info("berth stopped");
    }
}
