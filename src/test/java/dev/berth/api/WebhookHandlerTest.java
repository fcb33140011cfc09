package dev.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Endpoint URLs as the API shows them: without user info, query or fragment, which may hold secrets. */
class WebhookHandlerTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://127.0.0.1:9000/hook                       | http://127.0.0.1:9000/hook",
            "https://hooks.example.com                        | https://hooks.example.com",
            "https://user:pa55@hooks.example.com/in           | https://hooks.example.com/in",
            "https://user@hooks.example.com:8443/in?x=1       | https://hooks.example.com:8443/in?…",
            "http://a:b@[::1]:8080/x?token=t#frag             | http://[::1]:8080/x?…",
            "http://my_host.internal:81/p%20q?sig=abc         | http://my_host.internal:81/p%20q?…",
            "http://user:p%40ss@host/                         | http://host/",
            "not a url                                        | (unparsable URL)",
            "/relative                                        | (unparsable URL)",
    })
    void urlsLoseTheirSecrets(String url, String shown) {
        assertEquals(shown, WebhookHandler.redacted(url));
    }
}
