# MTU and fragmentation. Hosts a and b have bridge-mode macvlans on one
# server NIC (veth0, cabled to the switch br0); host c has a cable of its
# own to the switch. Big pings are fragmented by default (-M want), refused
# at the sender with -M do, and sent without Don't Fragment with -M dont.
# Where a device takes less than a frame carries, it is dropped: by a
# bridge, or by a veth, which tells the sender at once when the sender is
# its own host ("No buffer space available"). Then a router with a smaller MTU on its
# far side: it answers "fragmentation needed", and its hosts learn the
# path MTU.

ip netns add a
ip netns add b
ip netns add c
ip link add br0 type bridge
ip link set br0 up
ip link add veth0 type veth peer name veth0-br
ip link set veth0-br master br0
ip link set veth0 up
ip link set veth0-br up
ip link add mva link veth0 type macvlan mode bridge
ip link add mvb link veth0 type macvlan mode bridge
ip link set mva netns a
ip link set mvb netns b
ip link add vc type veth peer name vc-br
ip link set vc-br master br0
ip link set vc-br up
ip link set vc netns c
ip -n a link set mva up
ip -n b link set mvb up
ip -n c link set vc up
ip -n a addr add 10.0.0.1/24 dev mva
ip -n b addr add 10.0.0.2/24 dev mvb
ip -n c addr add 10.0.0.3/24 dev vc
ip netns exec b tcpdump -n -i mvb icmp &

# Between bridge-mode siblings: fragments by default, a local error with -M do.
ip netns exec a ping -c 1 -W 1 -s 2000 10.0.0.2                  # expect: ok
ip netns exec a ping -c 2 -W 1 -M do -s 2000 10.0.0.2            # expect: fail
ip netns exec a ping -c 1 -W 1 -M do -s 1472 10.0.0.2            # expect: ok
ip netns exec a ping -c 1 -W 1 -M dont -s 1600 10.0.0.2          # expect: ok
ip netns exec a ping -c 1 -W 1 -s 8 10.0.0.2                     # expect: ok
ip netns exec a ping -c 1 -W 1 -s 0 10.0.0.2                     # expect: ok

# A sibling with a smaller MTU still takes a bigger frame from a bridge-mode
# sibling: the port checks it against the lower's MTU only, on its way
# back in. What b sends itself is cut to its own size.
ip -n b link set mvb mtu 1400
ip netns exec a ping -c 1 -W 1 -s 1450 10.0.0.2                  # expect: ok
ip netns exec b ping -c 1 -W 1 -s 1450 10.0.0.1                  # expect: ok
ip -n a -s link show mva
ip -n b -s link show mvb

# Host c's end of the cable takes less than the switch sends: the veth
# drops it, and nobody hears of it. c's own requests go out in pieces,
# but a's whole reply cannot come back.
ip -n c link set vc mtu 1400
ip netns exec a ping -c 1 -W 1 -s 1450 10.0.0.3                  # expect: fail
ip netns exec c ping -c 1 -W 1 -s 1450 10.0.0.1                  # expect: fail
ip netns exec c ping -c 1 -W 1 -s 1350 10.0.0.1                  # expect: ok
ip -n c -s link show vc
# The switch's end takes less than c sends: c's own veth refuses it at
# once, and ping tries again before it gives up.
ip link set vc-br mtu 1300
ip netns exec c ping -c 2 -W 1 -s 1350 10.0.0.1                  # expect: fail
ip netns exec c ping -c 1 -W 1 -M dont -s 1350 10.0.0.1          # expect: fail
ip -n c -s link show vc
ip -s link show vc-br
# And a bridge drops what is too big for the port it goes out of.
ip link set vc-br mtu 1500
ip -n c link set vc mtu 1500
ip link set veth0-br mtu 1400
ip netns exec c ping -c 1 -W 1 -s 1450 10.0.0.1                  # expect: fail
ip netns exec c ping -c 1 -W 1 -s 1350 10.0.0.1                  # expect: ok
ip link set veth0-br mtu 1500

# Deadlines: -w counts replies with -c, and ends the ping when it runs out.
ip netns exec a ping -c 2 -w 3 10.0.0.2                          # expect: ok
ip netns exec a ping -c 3 -w 2 10.0.0.2                          # expect: fail
ip netns exec a ping -w 2 10.0.0.2                               # expect: ok
ip netns exec a ping -w 2 -M do -s 2000 10.0.0.2                 # expect: fail

# A router with a smaller MTU on its far side.
ip netns add r
ip netns add d
ip link add vr type veth peer name vr-br
ip link set vr-br master br0
ip link set vr-br up
ip link set vr netns r
ip link add vr2 type veth peer name vd
ip link set vr2 netns r
ip link set vd netns d
ip -n r link set vr up
ip -n r link set vr2 up
ip -n d link set vd up
ip -n r addr add 10.0.0.254/24 dev vr
ip -n r addr add 10.0.2.1/24 dev vr2
ip -n d addr add 10.0.2.2/24 dev vd
ip -n r link set vr2 mtu 1400
ip -n d link set vd mtu 1400
ip -n a route add 10.0.2.0/24 via 10.0.0.254
ip -n d route add default via 10.0.2.1
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec a tcpdump -n -i mva icmp &
# The first request says Don't Fragment: the router answers that it
# needs to fragment; a learns the path MTU and fragments the next ones.
ip netns exec a ping -c 3 -W 1 -s 1450 10.0.2.2                  # expect: ok
ip netns exec a ping -c 1 -W 1 -M do -s 1450 10.0.2.2            # expect: fail
ip netns exec a ping -c 1 -W 1 -M do -s 1372 10.0.2.2            # expect: ok
# Without Don't Fragment the router cuts the packet itself.
ip netns exec b ip route add 10.0.2.0/24 via 10.0.0.254
ip netns exec b ping -c 1 -W 1 -M dont -s 1450 10.0.2.2          # expect: ok
ip netns exec d ping -c 1 -W 1 -s 3000 10.0.0.2                  # expect: ok
