# Captures inside namespaces, on a macvlan and on a veth.
ip netns add a
ip netns add b
ip link add va type veth peer name vb
ip link set vb netns b
ip link add m1 link va type macvlan mode bridge
ip link add m2 link va type macvlan mode bridge
ip link set m1 netns a
ip link set m2 netns b
ip netns exec a ip addr add 10.6.0.1/24 dev m1
ip netns exec b ip addr add 10.6.0.2/24 dev m2
ip netns exec b ip addr add 10.6.0.3/24 dev vb
ip link set va up
ip netns exec a ip link set m1 up
ip netns exec b ip link set m2 up
ip netns exec b ip link set vb up
ip netns exec b tcpdump -i m2 icmp &
ip netns exec b tcpdump -i vb -e &
ip netns exec a ping -c 2 -i 0.2 -W 1 10.6.0.2   # expect: ok
ip netns exec a ping -c 1 -W 1 10.6.0.3          # expect: ok
ip -s link show va
ip netns exec a ip -s link show m1
ip netns exec b ip -s link show m2
