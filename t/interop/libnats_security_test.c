#include "../tap.h"

int
main(void)
{
	ok(1, "skeleton");
	return done_testing();
}
