/* skeleton: filled in by the security work (issue 5) */
#include "config.h"

#include "passwd.h"
