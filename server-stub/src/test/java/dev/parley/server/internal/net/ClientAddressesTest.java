package dev.parley.server.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
    private final ClientAddresses untrusting = new ClientAddresses(List.of());
    private final ClientAddresses behindProxy = new ClientAddresses(List.of("10.0.0.0/8", "fd00::/8"));

    @Test
    void forwardedForIsIgnoredFromAPeerThatIsNotATrustedProxy() {
        assertThat(untrusting.resolve("203.0.113.7", "198.51.100.1")).isEqualTo("203.0.113.7");
        assertThat(behindProxy.resolve("203.0.113.7", "198.51.100.1")).isEqualTo("203.0.113.7");
    }

    @Test
    void forwardedForIsHonouredFromATrustedProxy() {
        assertThat(behindProxy.resolve("10.1.2.3", "198.51.100.1")).isEqualTo("198.51.100.1");
    }

    @Test
    void theRightMostEntryThatIsNotATrustedProxyIsTheClient() {
        // The left-most entry is whatever the client wrote; only the hops our proxies added are believed.
        assertThat(behindProxy.resolve("10.1.2.3", "1.1.1.1, 198.51.100.1, 10.9.9.9"))
                .isEqualTo("198.51.100.1");
    }

    @Test
    void aForwardedForOfGarbageLeavesTheProxysOwnView() {
        assertThat(behindProxy.resolve("10.1.2.3", "not-an-address")).isEqualTo("10.1.2.3");
    }

    @Test
    void twoIpv6AddressesOfOneSlash64ShareAKey() {
        String a = untrusting.resolve("2001:db8:1:2::1", null);
        String b = untrusting.resolve("2001:db8:1:2:ffff:eeee:dddd:cccc", null);
        String other = untrusting.resolve("2001:db8:1:3::1", null);
        assertThat(a).isEqualTo(b).isNotEqualTo(other);
    }

    @Test
    void anIpv4MappedAddressIsKeyedAsIpv4() {
        assertThat(ClientAddresses.key("::ffff:192.0.2.5")).isEqualTo("192.0.2.5");
    }

    @Test
    void anIpv6ProxyBlockIsMatched() {
        assertThat(behindProxy.resolve("fd12::1", "2001:db8::7")).isEqualTo("2001:db8:0:0::/64");
        assertThat(behindProxy.isTrustedProxy("fd12::1")).isTrue();
        assertThat(behindProxy.isTrustedProxy("fe80::1")).isFalse();
    }
}
