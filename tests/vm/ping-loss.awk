# Reads ping's output and prints the loss, in percent, of the first COUNT echo requests
# (awk -v count=N -f ping-loss.awk): 100 if none was answered or ping failed outright.
# Why not ping's own figure: with a deadline (-w), iputils ping keeps sending until COUNT
# replies have come, so a slow reply makes it send (and count as lost) one request more;
# without one, it waits for the last reply only twice the largest RTT so far, so one slow reply
# (a busy host, virtual time) counts as lost. Here a reply counts when it comes before ping exits.
/icmp_seq=[0-9]+ / {
    match($0, /icmp_seq=[0-9]+/)
    seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
    if (seq >= 1 && seq <= count && !(seq in seen)) {
        seen[seq] = 1
        got++
    }
}
END { printf "%g\n", 100 * (count - got) / count }
