# What iproute2 6.1 prints when it refuses, and the show forms people type
# (`show up`, `-4 addr`): the emulator prints the same (adding, in
# parentheses, which rule refused).
ip netns add a
ip link add p0 type veth peer name p1
ip addr add 10.0.0.1/24 dev p0
ip addr add 10.0.0.1/24 dev p0           # expect: error
ip link show nosuch                      # expect: error
ip addr show nosuch                      # expect: error
ip link set nosuch up                    # expect: error
ip link add br0 type bridge
ip link add br1 type bridge
ip link set br0 master br1               # expect: error
ip link set lo netns a                   # expect: error
ip link add p0 type veth peer name p2    # expect: error
ip link del nosuch                       # expect: error
ip addr del 10.9.9.9/24 dev p0           # expect: error
ip netns add a                           # expect: error
ip netns del nosuchns                    # expect: error
ip link add m0 link nosuch type macvlan  # expect: error
ip link set p0 master nosuch             # expect: error
ip link set p0 netns nosuchns            # expect: error
ip neigh del 10.0.0.5 dev p0             # expect: error
ip link show up
ip addr show up
ip -4 addr show
ip link set p0 up
ip link show up
ip addr show up
ip -4 addr show
ip link add m0 link p0 type macvlan
ip link set m0 up
ip link set p0 mtu 1400
ip link set m0 mtu 1500                  # expect: error
ip link add mvx link p0 type macvlan mode passthru  # expect: error
