/* qmp: the QMP client of qemu.h (qemu_qmp_open, qemu_qmp_cmd,
 * qemu_qmp_status), over the stream parser of qmp_stream.h. */
#ifndef VTB_QMP_H
#define VTB_QMP_H

/* qemu_qmp_open, also watching the pidfd of the QEMU that is to listen at
 * path (-1: none): -ECHILD as soon as that process ends. */
int qmp_open(const char *path, int timeout_ms, int pidfd);

#endif
