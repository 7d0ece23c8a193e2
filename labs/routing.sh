# Routing between macvlan subnets. Two switches (br0, br1), a server NIC
# on each (veth0, veth1); host a's macvlan is on 10.0.1.0/24, host b's on
# 10.0.2.0/24, and namespace r has a macvlan on each: a router once
# forwarding is on and the hosts have routes through it. Then what a
# router says when it cannot forward: no route, time to live exceeded,
# a next hop that never answers ARP.

ip netns add a
ip netns add r
ip netns add b
ip link add br0 type bridge
ip link add br1 type bridge
ip link set br0 up
ip link set br1 up
ip link add veth0 type veth peer name veth0-br
ip link add veth1 type veth peer name veth1-br
ip link set veth0-br master br0
ip link set veth1-br master br1
ip link set veth0 up
ip link set veth1 up
ip link set veth0-br up
ip link set veth1-br up
ip link add mva link veth0 type macvlan mode bridge
ip link add mvr1 link veth0 type macvlan mode bridge
ip link add mvr2 link veth1 type macvlan mode bridge
ip link add mvb link veth1 type macvlan mode bridge
ip link set mva netns a
ip link set mvr1 netns r
ip link set mvr2 netns r
ip link set mvb netns b
ip -n a link set mva up
ip -n r link set mvr1 up
ip -n r link set mvr2 up
ip -n b link set mvb up
ip -n a addr add 10.0.1.2/24 dev mva
ip -n r addr add 10.0.1.1/24 dev mvr1
ip -n r addr add 10.0.2.1/24 dev mvr2
ip -n b addr add 10.0.2.2/24 dev mvb

# No route: ping cannot even start.
ip netns exec a ping -c 1 -W 1 10.0.2.2                      # expect: error
ip -n a route add default via 10.0.1.1
ip -n a route
# A route, but r does not forward yet.
ip netns exec a ping -c 1 -W 1 10.0.2.2                      # expect: fail
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec r tcpdump -n -i mvr1 icmp &
# r forwards, but b has no route back.
ip netns exec a ping -c 1 -W 1 10.0.2.2                      # expect: fail
ip -n b route add 10.0.1.0/24 via 10.0.2.1 metric 10
ip -n b route
ip netns exec a ping -c 2 -W 1 10.0.2.2                      # expect: ok
# What r sends back: net unreachable, time exceeded, host unreachable
# (after three seconds of unanswered ARP).
ip netns exec a ping -c 1 -W 1 10.0.3.2                      # expect: fail
ip netns exec a ping -c 1 -W 1 -t 1 10.0.2.2                 # expect: fail
ip netns exec a ping -c 1 -W 5 10.0.2.9                      # expect: fail

# The kernel's checks on a route, each with its own words.
ip -n a route add 10.9.0.0/16 via 10.5.0.1                   # expect: error
ip -n a route add 10.5.0.0/8 via 10.0.1.1                    # expect: error
ip -n a route add default via 10.0.1.1                       # expect: error
ip -n a route del 10.9.0.0/16                                # expect: error
ip -n a route add 10.9.0.0/16 dev mva
ip -n a route replace default via 10.0.1.3 metric 5
ip -n a route
ip -n a route show default
ip -n a -j route
ip -n a -j -p route show default
ip -n a -br neigh
ip -n a -j neigh
ip -n a route del default via 10.0.1.1
ip -n a route change 10.4.0.0/16 via 10.0.1.5                # expect: error
# The route left goes through 10.0.1.3, which nobody holds.
ip netns exec a ping -c 1 -W 1 10.0.2.2                      # expect: fail

# A device that goes down takes its routes along; up again, only the
# connected route is back.
ip -n r link set mvr2 down
ip -n r route
ip -n r -j route
ip -n r link set mvr2 up
ip -n r route
ip netns exec r sysctl net.ipv4.ip_forward
