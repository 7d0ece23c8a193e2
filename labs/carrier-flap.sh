# A bridge port's carrier flaps under a macvlan's lower. The macvlan loses
# its carrier with its lower, and a device that loses its carrier forgets
# its neighbours (Linux's neigh_carrier_down), so the next ping asks ARP
# again: the bridge's ports count that exchange. The peer across the
# bridge kept its carrier and its entry, and answers at once.
ip link add name br0 type bridge
ip link set br0 up
ip netns add srv1
ip netns add h1
ip netns add h2
ip link add sw1 type veth peer name nic1
ip link set nic1 netns srv1
ip link set sw1 master br0
ip link set sw1 up
ip link add sw2 type veth peer name nic2
ip link set nic2 netns h2
ip link set sw2 master br0
ip link set sw2 up
ip -n srv1 link set nic1 up
ip -n srv1 link add m1 link nic1 type macvlan mode bridge
ip -n srv1 link set m1 netns h1
ip -n h1 addr add 10.0.0.1/24 dev m1
ip -n h1 link set m1 up
ip -n h2 addr add 10.0.0.2/24 dev nic2
ip -n h2 link set nic2 up
ip netns exec h1 ping -c 1 -W 1 10.0.0.2   # expect: ok
ip -s link show sw1
ip -s link show sw2
ip link set sw1 down
ip link set sw1 up
sleep 1
ip netns exec h1 ip neigh show
ip netns exec h1 ping -c 1 -W 1 10.0.0.2   # expect: ok
ip -s link show sw1
ip -s link show sw2
