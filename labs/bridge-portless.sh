# A bridge without ports has carrier (UP,LOWER_UP, state UNKNOWN) until its
# first port joins, so macvlans on it talk to each other and to the bridge.
ip link add br0 type bridge
ip addr add 10.7.0.1/24 dev br0
ip link set br0 up
ip link show br0
ip link add m1 link br0 type macvlan mode bridge
ip link add m2 link br0 type macvlan mode bridge
ip netns add a
ip netns add b
ip link set m1 netns a
ip link set m2 netns b
ip netns exec a ip addr add 10.7.0.11/24 dev m1
ip netns exec b ip addr add 10.7.0.12/24 dev m2
ip netns exec a ip link set m1 up
ip netns exec b ip link set m2 up
ip netns exec a ping -c 1 -W 1 10.7.0.12    # expect: ok
# A macvlan and its lower do not hear each other.
ip netns exec a ping -c 1 -W 1 10.7.0.1     # expect: fail
# Once a port has joined, the bridge's carrier follows its ports: a port
# that is down takes it away.
ip link add p0 type veth peer name p1
ip link set p0 master br0
ip link show br0
ip netns exec a ping -c 1 -W 1 10.7.0.12    # expect: fail
ip link set p1 up
ip link set p0 up
# The kernel passes the bridge's new carrier to its macvlans within a second.
sleep 1
ip netns exec a ping -c 1 -W 1 10.7.0.12    # expect: ok
