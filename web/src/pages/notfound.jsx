// pages/notfound.jsx — an unknown hash route, or one the user may not see.
import { PageHeader } from '../components/ui.jsx';

export function NotFoundPage({ route }) {
	return (
		<section class="page">
			<PageHeader title="Page not found" />
			<p>
				There is no page at <code>#{route}</code>. <a href="#/">Go to the home page</a>.
			</p>
		</section>
	);
}
