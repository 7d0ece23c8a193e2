# Counters as Linux keeps them for macvlans (spec 3.10): a flood copy counts
# as multicast (and, sent by a bridge-mode sibling, 14 bytes too many); a
# broadcast of a private macvlan that a hairpin returns counts no bytes;
# what a source list hands over is not multicast.
ip link add name br0 type bridge
ip link set br0 up
ip link add sw0 type veth peer name nic0
ip link set sw0 master br0
bridge link set dev sw0 hairpin on
ip link set sw0 up
ip link set nic0 up
ip netns add a
ip netns add b
ip netns add p
ip netns add s
ip link add mva link nic0 netns a address 02:00:00:00:00:0a type macvlan mode bridge
ip link add mvb link nic0 netns b address 02:00:00:00:00:0b type macvlan mode bridge
ip link add mvp link nic0 netns p address 02:00:00:00:00:0c type macvlan mode private
ip link add mvs link nic0 netns s type macvlan mode source macaddr add 02:00:00:00:00:0a
ip -n a addr add 10.8.0.1/24 dev mva
ip -n b addr add 10.8.0.2/24 dev mvb
ip -n p addr add 10.8.0.3/24 dev mvp
ip -n s addr add 10.8.0.4/24 dev mvs
ip -n a link set mva up
ip -n b link set mvb up
ip -n p link set mvp up
ip -n s link set mvs up
ip netns exec a ping -c 2 -i 0.2 -W 1 10.8.0.2    # expect: ok
ip netns exec p ping -c 1 -W 0.5 10.8.0.9        # expect: fail
ip netns exec a ip -s link show mva
ip netns exec b ip -s link show mvb
ip netns exec p ip -s link show mvp
ip netns exec s ip -s link show mvs
ip -s link show nic0
