package dev.berth.deploy.model;

/**
 * A container port published on the node. {@code hostPort} 0 asks for a dynamic port (bridge mode);
 * in host mode the host port is the container port.
 */
public record PortMapping(Integer containerPort, Integer hostPort, String protocol) {
    PortMapping normalize(String field, String networkMode) {
        int container = Check.range(field + ".containerPort", Check.required(field + ".containerPort", containerPort), 1, 65535);
        String proto = protocol == null ? "tcp" : protocol;
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw new FieldException(field + ".protocol", field + ".protocol must be tcp or udp, not " + Check.shorten(proto));
        }
        int host;
        if ("host".equals(networkMode)) {
            host = hostPort == null || hostPort == 0 ? container : hostPort;
            if (host != container) {
                throw new FieldException(field + ".hostPort",
                        field + ".hostPort must equal containerPort (or be omitted) in host network mode");
            }
        } else {
            host = Check.range(field + ".hostPort", hostPort, 0, 65535, 0);
        }
        return new PortMapping(container, host, proto);
    }

    public boolean dynamic() {
        return hostPort == null || hostPort == 0;
    }
}
