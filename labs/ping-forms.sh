# The forms of ping people type, and the exit codes they end with:
# 0 a reply, 1 none, 2 ping could not even start (an error).
ip netns add a
ip link add p0 type veth peer name p1
ip addr add 10.6.0.1/24 dev p0
ip link set p0 up
ip link set lo up
ip netns exec bleu ping -c 1 -W 1 10.6.0.1   # expect: error
ping -c 1 -W 1 -I eht0 10.6.0.2             # expect: error
ping -c 1 -W 1 -I 10.6.0.1 127.0.0.1        # expect: ok
ping -c 1 -W 1 -I 10.9.9.9 127.0.0.1        # expect: error
ping -c 1 -W 1 10.7.0.1                     # expect: error
ping -c 1 -W 1 -I p1 10.6.0.2               # expect: error
ping -c 1 -W 1 10.6.0.2                     # expect: fail
ping -c 1 -W 1 -I p0 10.6.0.1               # expect: ok
