package dev.berth.app;

import dev.berth.auth.AccessControl;
import dev.berth.auth.Authenticator;
import dev.berth.auth.CiTokens;
import dev.berth.auth.TokenService;
import dev.berth.auth.Users;
import dev.berth.config.BerthConfig;
import dev.berth.db.Database;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may do what, put together from the configuration: users and groups from their files, CI
 * tokens from the state database, the token signing key under {@code pki/}, and the access rules.
 */
record Security(Authenticator authenticator, AccessControl access, CiTokens ciTokens) {
    private static final Logger LOG = LoggerFactory.getLogger(Security.class);

    static Security create(Vertx vertx, BerthConfig config, Database database) throws Exception {
        BerthConfig.AuthConfig auth = config.auth();
        Path root = Path.of(config.storage().root());
        // The files are read only when someone signs in: a server without auth does not depend on them.
        Users users = auth.enabled() ? Users.load(root.resolve(auth.users()), root.resolve(auth.groups()))
                : new Users(root.resolve(auth.users()), root.resolve(auth.groups()));
        CiTokens ciTokens = CiTokens.load(database, Clock.systemUTC());
        // The signing key is made only when tokens can be asked for (nothing is written otherwise).
        TokenService tokens = auth.enabled()
                ? TokenService.loadOrCreate(root.resolve("pki"), auth.service(), Clock.systemUTC()) : null;
        AccessControl access = new AccessControl(auth, users);
        if (auth.enabled()) {
            LOG.atInfo().addKeyValue("mode", auth.mode()).addKeyValue("users", users.names().size())
                    .addKeyValue("rules", auth.rules().size())
                    .log(users.names().isEmpty() ? "authentication on, and no users yet: add one with berth user add"
                            : "authentication on");
            if (!config.tls().enabled()) {
                LOG.warn("authentication without TLS: passwords and tokens cross the network in the clear (tls.auto)");
            }
        }
        return new Security(new Authenticator(vertx, users, ciTokens, tokens), access, ciTokens);
    }
}
