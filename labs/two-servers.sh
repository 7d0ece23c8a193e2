# Macvlan across hosts: two servers on one switch. The switch is br0; each
# server's NIC is one end of a veth whose other end is a switch port. Guests
# are macvlans in namespaces; guests of different servers talk through the
# switch in every mode, while guests of one server need bridge mode (or a
# hairpin) to talk to each other.

ip link add name br0 type bridge
ip link set br0 up
ip netns add srvA
ip netns add srvB
ip link add name portA type veth peer nicA
ip link add name portB type veth peer nicB
ip link set portA master br0
ip link set portB master br0
ip link set portA up
ip link set portB up
ip link set nicA netns srvA
ip link set nicB netns srvB
ip netns exec srvA ip link set nicA up
ip netns exec srvB ip link set nicB up

# Server A: two VEPA guests. Server B: a private guest and a bridge-mode guest.
ip netns add a1
ip netns add a2
ip netns add b1
ip netns add b2
ip netns exec srvA ip link add g1 link nicA type macvlan mode vepa
ip netns exec srvA ip link add g2 link nicA type macvlan mode vepa
ip netns exec srvB ip link add g1 link nicB type macvlan mode private
ip netns exec srvB ip link add g2 link nicB type macvlan mode bridge
ip netns exec srvA ip link set g1 netns a1
ip netns exec srvA ip link set g2 netns a2
ip netns exec srvB ip link set g1 netns b1
ip netns exec srvB ip link set g2 netns b2
ip netns exec a1 ip addr add 10.1.0.1/24 dev g1
ip netns exec a2 ip addr add 10.1.0.2/24 dev g2
ip netns exec b1 ip addr add 10.1.0.3/24 dev g1
ip netns exec b2 ip addr add 10.1.0.4/24 dev g2
ip netns exec a1 ip link set g1 up
ip netns exec a2 ip link set g2 up
ip netns exec b1 ip link set g1 up
ip netns exec b2 ip link set g2 up
sleep 1

# Across servers: every mode gets through the switch.
ip netns exec a1 ping -c 1 -W 1 10.1.0.3      # expect: ok
ip netns exec a1 ping -c 1 -W 1 10.1.0.4      # expect: ok
ip netns exec b1 ping -c 1 -W 1 10.1.0.2      # expect: ok
ip netns exec b2 ping -c 1 -W 1 10.1.0.1      # expect: ok
# On one server: VEPA and private need the switch to hairpin, which it does not.
ip netns exec a1 ping -c 1 -W 1 10.1.0.2      # expect: fail
ip netns exec b1 ping -c 1 -W 1 10.1.0.4      # expect: fail
# With hairpin on server A's port, its VEPA guests meet.
bridge link set dev portA hairpin on
ip netns exec a1 ip neigh flush all
ip netns exec a1 ping -c 1 -W 1 10.1.0.2      # expect: ok
# Server B's private guest stays alone even then.
bridge link set dev portB hairpin on
ip netns exec b1 ip neigh flush all
ip netns exec b2 ip neigh flush all
ip netns exec b1 ping -c 1 -W 1 10.1.0.4      # expect: fail
# One switch learned every guest, on the port of its server.
bridge fdb
