package dev.berth.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Berth's signed tokens: JWTs signed with ES256 (ECDSA P-256, SHA-256) by a key kept in
 * {@code <storage.root>/pki/token.key} (made at first start, 0600). Three uses, told apart by the
 * {@code use} claim so that one can never stand in for another:
 * <ul>
 *   <li>{@code access}: what the token endpoint issues; {@code access} claim lists the granted
 *       resources in Docker's form ({@code [{type, name, actions}]}); minutes long.</li>
 *   <li>{@code refresh}: the OAuth2 refresh token {@code docker login} keeps; it names the user and
 *       a stamp of their password hash, so a password change or removal ends it.</li>
 *   <li>{@code pull}: a node's pull credential, granting {@code pull} on the repositories of the
 *       images it was told to run, for an hour.</li>
 * </ul>
 * Verification accepts only ES256 with this key, issuer {@code berth} (the signer), audience the
 * configured service, and a time within {@code nbf}..{@code exp} (with {@value #LEEWAY_SECONDS}s of
 * clock leeway).
 */
public final class TokenService {
    public static final String ISSUER = "berth";
    static final long LEEWAY_SECONDS = 10;

    /** A verified token's content. */
    public record Claims(String use, String subject, List<Principal.Grant> access, String stamp, String id,
                         Instant expiresAt) {
    }

    /** Why a token was refused (the message says so; it goes to logs and error details). */
    public static final class InvalidTokenException extends Exception {
        InvalidTokenException(String message) {
            super(message, null, false, false);
        }
    }

    private final ECKey key;
    private final ECDSASigner signer;
    private final ECDSAVerifier verifier;
    private final String service;
    private final Clock clock;
    /** Tokens that verified, by their text (at most about 32 MiB; expiry is checked on every use). */
    private final com.github.benmanes.caffeine.cache.Cache<String, Claims> verified =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                    .maximumWeight(32L << 20).weigher((String token, Claims c) -> 2 * token.length() + 256)
                    .expireAfterWrite(java.time.Duration.ofHours(1)).build();

    private TokenService(ECKey key, String service, Clock clock) throws JOSEException {
        this.key = key;
        this.signer = new ECDSASigner(key);
        this.verifier = new ECDSAVerifier(key.toECPublicKey());
        this.service = service;
        this.clock = clock;
    }

    /** The signer with the key in {@code pkiDir}/token.key, created when missing. */
    public static TokenService loadOrCreate(Path pkiDir, String service, Clock clock) throws IOException {
        Path file = pkiDir.resolve("token.key");
        KeyPair pair;
        if (Files.exists(file)) {
            pair = read(file);
        } else {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
                pair = g.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot generate the token signing key: " + e.getMessage(), e);
            }
            // PKCS#8 "PRIVATE KEY", then "PUBLIC KEY": the verifier needs the public half back.
            SecretFiles.write(file, Pem.encode(pair.getPrivate(), pair.getPublic()), true);
        }
        try {
            ECKey jwk = new ECKey.Builder(Curve.P_256, (ECPublicKey) pair.getPublic())
                    .privateKey((ECPrivateKey) pair.getPrivate()).build();
            jwk = new ECKey.Builder(jwk).keyID(jwk.computeThumbprint().toString()).build();
            return new TokenService(jwk, service, clock);
        } catch (JOSEException | ClassCastException e) {
            throw new IOException(file + ": not a P-256 key: " + e.getMessage(), e);
        }
    }

    private static KeyPair read(Path file) throws IOException {
        java.security.PrivateKey privateKey = null;
        java.security.PublicKey publicKey = null;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(in)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo info) {
                    privateKey = converter.getPrivateKey(info);
                } else if (o instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo info) {
                    publicKey = converter.getPublicKey(info);
                } else if (o instanceof PEMKeyPair pair && pair.getPublicKeyInfo() != null) {
                    return converter.getKeyPair(pair);
                }
            }
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a readable EC key: " + e.getMessage(), e);
        }
        if (privateKey == null || publicKey == null) {
            throw new IOException(file + ": expected a PRIVATE KEY and its PUBLIC KEY (remove the file to make a new "
                    + "key; tokens issued with the old one then end)");
        }
        return new KeyPair(publicKey, privateKey);
    }

    /** The audience tokens are issued for and must name. */
    public String service() {
        return service;
    }

    /** The key's id, in every token's header ({@code kid}). */
    public String keyId() {
        return key.getKeyID();
    }

    public String issueAccess(String subject, List<Principal.Grant> access, Duration ttl) {
        return sign("access", subject, access, null, ttl);
    }

    public String issueRefresh(String subject, String stamp, Duration ttl) {
        return sign("refresh", subject, null, stamp, ttl);
    }

    public String issuePull(String subject, List<Principal.Grant> access, Duration ttl) {
        return sign("pull", subject, access, null, ttl);
    }

    private String sign(String use, String subject, List<Principal.Grant> access, String stamp, Duration ttl) {
        Instant now = clock.instant();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER).subject(subject).audience(service)
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl))).jwtID(UUID.randomUUID().toString())
                .claim("use", use);
        if (access != null) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Principal.Grant g : access) {
                list.add(Map.of("type", g.type(), "name", g.name(), "actions", g.actions().stream().sorted().toList()));
            }
            claims.claim("access", list);
        }
        if (stamp != null) {
            claims.claim("stamp", stamp);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT)
                .keyID(key.getKeyID()).build(), claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    /**
     * The claims of {@code token} if it is a valid token of this service for {@code use}; refused
     * otherwise. A token that verified is remembered (by its exact text, signature included) until it
     * expires, so that a client sending the same bearer token with every request costs one ECDSA
     * verification, not one per request; its expiry is still checked on every use.
     */
    public Claims verify(String token, String use) throws InvalidTokenException {
        Claims known = token == null ? null : verified.getIfPresent(token);
        if (known != null) {
            if (!known.use().equals(use)) {
                throw new InvalidTokenException("not a" + (use.equals("access") ? "n " : " ") + use + " token");
            }
            if (!clock.instant().minusSeconds(LEEWAY_SECONDS).isBefore(known.expiresAt())) {
                verified.invalidate(token);
                throw new InvalidTokenException("the token has expired");
            }
            return known;
        }
        Claims claims = verifyAfresh(token, use);
        verified.put(token, claims);
        return claims;
    }

    private Claims verifyAfresh(String token, String use) throws InvalidTokenException {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException | RuntimeException e) {
            throw new InvalidTokenException("not a signed JWT");
        }
        if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
            throw new InvalidTokenException("the token's algorithm is " + jwt.getHeader().getAlgorithm()
                    + "; only ES256 is accepted");
        }
        try {
            if (!jwt.verify(verifier)) {
                throw new InvalidTokenException("the token's signature does not verify");
            }
        } catch (JOSEException | RuntimeException e) {
            throw new InvalidTokenException("the token's signature does not verify");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidTokenException("the token's claims are not readable");
        }
        Instant now = clock.instant();
        if (!ISSUER.equals(claims.getIssuer())) {
            throw new InvalidTokenException("the token was not issued by " + ISSUER);
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(service)) {
            throw new InvalidTokenException("the token is not for service " + service);
        }
        if (claims.getExpirationTime() == null
                || !now.minusSeconds(LEEWAY_SECONDS).isBefore(claims.getExpirationTime().toInstant())) {
            throw new InvalidTokenException("the token has expired");
        }
        if (claims.getNotBeforeTime() != null && now.plusSeconds(LEEWAY_SECONDS).isBefore(claims.getNotBeforeTime().toInstant())) {
            throw new InvalidTokenException("the token is not valid yet");
        }
        Object claimedUse = claims.getClaim("use");
        if (!use.equals(claimedUse)) {
            throw new InvalidTokenException("not a" + (use.equals("access") ? "n " : " ") + use + " token");
        }
        List<Principal.Grant> access = new ArrayList<>();
        Object list = claims.getClaim("access");
        if (list instanceof List<?> items) {
            for (Object item : items) {
                if (item instanceof Map<?, ?> m && m.get("type") instanceof String type && m.get("name") instanceof String name
                        && m.get("actions") instanceof List<?> actions) {
                    Set<String> set = new HashSet<>();
                    actions.forEach(a -> set.add(String.valueOf(a)));
                    access.add(new Principal.Grant(type, name, set));
                }
            }
        }
        Object stamp = claims.getClaim("stamp");
        return new Claims(String.valueOf(claimedUse), claims.getSubject(), access,
                stamp instanceof String s ? s : null, claims.getJWTID(), claims.getExpirationTime().toInstant());
    }
}
